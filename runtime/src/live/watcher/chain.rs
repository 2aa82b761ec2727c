//! How a watched path is reached: every symlink on the way and where it
//! ends. Deploy tools change what a path means without touching the file:
//! a ConfigMap flips `..data`, a release script flips `dist ->
//! releases/<stamp>`. Each link sits in a directory; watching those
//! directories turns every flip into an event on a known path.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Symlinks followed at most (as the kernel's `ELOOP` limit).
const MAX_LINKS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chain {
    /// Each symlink followed, as `<resolved dir>/<link name>`: the path its
    /// events carry when that directory is watched.
    pub links: Vec<PathBuf>,
    /// The path with every symlink resolved; it need not exist.
    pub resolved: PathBuf,
}

impl Chain {
    /// Resolves an absolute path one component at a time (`..` applies to
    /// the resolved prefix, as the kernel does). A missing component ends
    /// the resolution: the rest is appended as it is.
    pub(crate) fn resolve(path: &Path) -> Chain {
        let mut pending: Vec<OsString> = components(path);
        pending.reverse();
        let mut current = PathBuf::from("/");
        let mut links = Vec::new();
        while let Some(part) = pending.pop() {
            match part.to_str() {
                Some("/") => current = PathBuf::from("/"),
                Some(".") => {}
                Some("..") => {
                    current.pop();
                }
                _ => {
                    let next = current.join(&part);
                    let target = (links.len() < MAX_LINKS)
                        .then(|| std::fs::symlink_metadata(&next).ok())
                        .flatten()
                        .filter(|meta| meta.file_type().is_symlink())
                        .and_then(|_| std::fs::read_link(&next).ok());
                    match target {
                        Some(target) => {
                            links.push(next);
                            let mut parts = components(&target);
                            parts.reverse();
                            pending.extend(parts);
                        }
                        None => current = next,
                    }
                }
            }
        }
        Chain {
            links,
            resolved: current,
        }
    }

    /// The paths whose creation, removal, rename or replacement changes
    /// what the watched path means: each link, and the end of the chain.
    pub(crate) fn hops(&self) -> impl Iterator<Item = &Path> {
        self.links
            .iter()
            .map(PathBuf::as_path)
            .chain(std::iter::once(self.resolved.as_path()))
    }

    /// The directories holding each hop: watched, they see every change of it.
    pub(crate) fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self
            .hops()
            .filter_map(Path::parent)
            .map(Path::to_path_buf)
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// An event on `path` may change what the chain resolves to: it is a
    /// hop or a directory above one (a parent renamed away and back).
    pub(crate) fn affected_by(&self, path: &Path) -> bool {
        self.hops().any(|hop| hop.starts_with(path))
    }
}

fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .map(|c| c.as_os_str().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_plain_path_resolves_to_itself() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("dist")).unwrap();
        let chain = Chain::resolve(&root.join("dist"));
        assert!(chain.links.is_empty());
        assert_eq!(chain.resolved, root.join("dist"));
        assert_eq!(chain.dirs(), std::slice::from_ref(&root));
        // A path that does not exist yet resolves lexically.
        let missing = Chain::resolve(&root.join("nope/x.toml"));
        assert_eq!(missing.resolved, root.join("nope/x.toml"));
        assert!(missing.affected_by(&root.join("nope")));
        assert!(!missing.affected_by(&root.join("other")));
    }

    #[test]
    fn the_configmap_layout_is_two_links_in_one_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("..2026_01")).unwrap();
        std::fs::write(root.join("..2026_01/cfg.toml"), "").unwrap();
        symlink("..2026_01", root.join("..data")).unwrap();
        symlink("..data/cfg.toml", root.join("cfg.toml")).unwrap();
        let chain = Chain::resolve(&root.join("cfg.toml"));
        assert_eq!(chain.links, [root.join("cfg.toml"), root.join("..data")]);
        assert_eq!(chain.resolved, root.join("..2026_01/cfg.toml"));
        assert_eq!(chain.dirs(), [root.clone(), root.join("..2026_01")]);
        assert!(chain.affected_by(&root.join("..data")));
        assert!(!chain.affected_by(&root.join("..data_tmp")));
    }

    #[test]
    fn absolute_and_parent_relative_targets_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("releases/r1")).unwrap();
        std::fs::create_dir(root.join("app")).unwrap();
        symlink(root.join("releases"), root.join("rel")).unwrap();
        symlink("../rel/r1", root.join("app/dist")).unwrap();
        let chain = Chain::resolve(&root.join("app/dist"));
        assert_eq!(chain.links, [root.join("app/dist"), root.join("rel")]);
        assert_eq!(chain.resolved, root.join("releases/r1"));
    }

    #[test]
    fn a_symlink_loop_ends() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        symlink("b", root.join("a")).unwrap();
        symlink("a", root.join("b")).unwrap();
        let chain = Chain::resolve(&root.join("a"));
        assert_eq!(chain.links.len(), MAX_LINKS);
    }
}
