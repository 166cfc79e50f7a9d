//! Collations of string index parts, through ICU4X: `unicode` (the root locale, tertiary
//! strength: accents and case count, after the base letters) and `unicode_ci` (primary: only
//! the base letters count), as Tarantool's collations of those names.

use icu_collator::options::{CollatorOptions, Strength};
use icu_collator::{Collator, CollatorBorrowed};
use std::cmp::Ordering;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Collation {
    /// Bytewise.
    #[default]
    None,
    Unicode,
    UnicodeCi,
}

impl Collation {
    /// Its number in the WAL (and the C ABI's JB_COLL_*).
    pub fn code(self) -> u8 {
        match self {
            Collation::None => 0,
            Collation::Unicode => 1,
            Collation::UnicodeCi => 2,
        }
    }

    pub fn from_code(c: u32) -> Option<Collation> {
        Some(match c {
            0 => Collation::None,
            1 => Collation::Unicode,
            2 => Collation::UnicodeCi,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Collation::None => "binary",
            Collation::Unicode => "unicode",
            Collation::UnicodeCi => "unicode_ci",
        }
    }

    /// Orders two strings (ill-formed UTF-8 compares as if with replacement characters).
    pub fn cmp(self, a: &[u8], b: &[u8]) -> Ordering {
        match self {
            Collation::None => a.cmp(b),
            Collation::Unicode => collator(&UNICODE, Strength::Tertiary).compare_utf8(a, b),
            Collation::UnicodeCi => collator(&UNICODE_CI, Strength::Primary).compare_utf8(a, b),
        }
    }
}

static UNICODE: OnceLock<CollatorBorrowed<'static>> = OnceLock::new();
static UNICODE_CI: OnceLock<CollatorBorrowed<'static>> = OnceLock::new();

fn collator(cell: &'static OnceLock<CollatorBorrowed<'static>>, strength: Strength) -> &'static CollatorBorrowed<'static> {
    cell.get_or_init(|| {
        let mut options = CollatorOptions::default();
        options.strength = Some(strength);
        // The root locale's data is compiled in: building it cannot fail for want of data.
        Collator::try_new(Default::default(), options).expect("compiled ICU4X root collation data")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_orders_of_tarantools_collations() {
        let mut words = ["b", "B", "a", "A", "é", "e", "E", "z", "Z", "ä", "ab", "Ab"];
        words.sort_by(|x, y| Collation::Unicode.cmp(x.as_bytes(), y.as_bytes()));
        assert_eq!(words.join(" "), "a A ä ab Ab b B e E é z Z", "as Tarantool's unicode orders them");
        assert_eq!(Collation::UnicodeCi.cmp(b"Alice@X.com", b"alice@x.COM"), Ordering::Equal);
        assert_eq!(Collation::UnicodeCi.cmp("élan".as_bytes(), b"Elan"), Ordering::Equal);
        assert_eq!(Collation::UnicodeCi.cmp(b"a", b"b"), Ordering::Less);
        assert_eq!(Collation::None.cmp(b"B", b"a"), Ordering::Less);
    }
}
