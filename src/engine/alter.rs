//! Changes to existing spaces and indexes, logged as DDL: truncate, rename and a new format;
//! and reading the schema (spaces by position).

use super::space::FormatField;
use super::{Engine, SpaceId, check_name};
use crate::error::{Error, Result};
use crate::wal::ops::{LoggedField, Op};

impl Engine {
    /// Removes every tuple of space `id` (no transaction may be open), logged.
    pub fn truncate_space(&mut self, id: SpaceId) -> Result<()> {
        self.space(id)?;
        self.ready_for_ddl("truncate a space")?;
        let name = self.space(id)?.name.clone();
        self.log_ddl(&Op::Truncate { space: &name })?;
        self.space_mut(id)?.truncate();
        self.log(2, &format!("truncated space '{name}'"));
        Ok(())
    }

    /// Renames space `id` to `to`, logged. Its handles and indexes stay as they are.
    pub fn rename_space(&mut self, id: SpaceId, to: &str) -> Result<()> {
        check_name(to, "space")?;
        let name = self.space(id)?.name.clone();
        if name == to {
            return Ok(());
        }
        if self.by_name.contains_key(to) {
            return Err(Error::Exists(format!(
                "cannot rename space '{name}' to '{to}': a space with that name exists"
            )));
        }
        let mut owned = String::new();
        owned
            .try_reserve_exact(to.len())
            .map_err(|_| Error::Memory("cannot allocate a space name".into()))?;
        owned.push_str(to);
        self.by_name
            .try_reserve(1)
            .map_err(|_| Error::Memory("cannot allocate a space name".into()))?;
        self.log_ddl(&Op::RenameSpace {
            space: &name,
            to,
        })?;
        let slot = self.by_name.remove(&name).expect("a live space is named");
        self.by_name.insert(owned.clone(), slot);
        // Functional indexes still waiting for their key functions go under the new name.
        for a in self.awaiting.iter_mut().filter(|a| a.space == name) {
            a.space.clone_from(&owned);
        }
        self.space_mut(id)?.name = owned;
        self.log(2, &format!("renamed space '{name}' to '{to}'"));
        Ok(())
    }

    /// Renames the index at `pos` of space `id` to `to`, logged.
    pub fn rename_index(&mut self, id: SpaceId, pos: usize, to: &str) -> Result<()> {
        check_name(to, "index")?;
        let sp = self.space(id)?;
        let (space, name) = (sp.name.clone(), sp.indexes[pos].name.clone());
        if name == to {
            return Ok(());
        }
        if sp.index_pos(to).is_some() {
            return Err(Error::Exists(format!(
                "cannot rename index '{name}' of space '{space}' to '{to}': an index with that name exists"
            )));
        }
        let mut owned = String::new();
        owned
            .try_reserve_exact(to.len())
            .map_err(|_| Error::Memory("cannot allocate an index name".into()))?;
        owned.push_str(to);
        self.log_ddl(&Op::RenameIndex {
            space: &space,
            index: &name,
            to,
        })?;
        self.space_mut(id)?.indexes[pos].name = owned;
        self.log(
            2,
            &format!("renamed index '{name}' of space '{space}' to '{to}'"),
        );
        Ok(())
    }

    /// Gives space `id` a new format (field names, types, nullability), logged, once its
    /// indexes and every tuple fit it; nothing changes otherwise.
    pub fn set_format(&mut self, id: SpaceId, format: Vec<FormatField>) -> Result<()> {
        let sp = self.space(id)?;
        for (i, f) in format.iter().enumerate() {
            if f.name.is_empty() || format[..i].iter().any(|g| g.name == f.name) {
                return Err(Error::IllegalParams(format!(
                    "format field {} of space '{}' needs a unique, non-empty name",
                    i + 1,
                    sp.name
                )));
            }
        }
        self.ready_for_ddl("change a format")?;
        let sp = self.space(id)?;
        sp.check_new_format(&format)?;
        let name = sp.name.clone();
        let logged = format
            .iter()
            .map(LoggedField::from)
            .collect();
        self.log_ddl(&Op::AlterFormat {
            space: &name,
            format: logged,
        })?;
        self.space_mut(id)?.format = format;
        self.log(2, &format!("changed the format of space '{name}'"));
        Ok(())
    }

    /// The `pos`-th space (0-based, in slot order), or None past the last.
    pub fn space_at(&self, pos: usize) -> Option<SpaceId> {
        let (slot, s) = self
            .spaces
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
            .nth(pos)?;
        Some(SpaceId {
            slot: slot as u32,
            uid: s.uid,
        })
    }
}
