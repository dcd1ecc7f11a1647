//! File helpers shared by every writer: atomic writes, so an interrupted run
//! never leaves a half-written file where a complete one is expected.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Writes `bytes` to `path` through a temporary file in the same directory and
/// a rename, creating the parent directory if needed. Temporaries that dead
/// processes left for the same file are removed first; this process's own
/// is removed on every error and by a second interrupt.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.tmp.");
    remove_stale(dir, &prefix);
    let tmp = dir.join(format!("{prefix}{}", std::process::id()));
    let _guard = Temporary::register(&tmp);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Paths this process is writing and must not leave behind.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary file or directory of this process, known to
/// [`remove_own_temporaries`] while the guard lives. Dropping the guard
/// forgets the path; it does not remove it (the owner renames or removes it).
pub struct Temporary(PathBuf);

impl Temporary {
    pub fn register(path: &Path) -> Temporary {
        if let Ok(mut list) = TEMPORARIES.lock() {
            list.push(path.to_path_buf());
        }
        Temporary(path.to_path_buf())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Ok(mut list) = TEMPORARIES.lock() {
            if let Some(i) = list.iter().rposition(|p| *p == self.0) {
                list.swap_remove(i);
            }
        }
    }
}

/// Removes every temporary this process has registered (for a run that
/// is about to exit without unwinding: the second Ctrl-C).
#[cfg(feature = "cli")]
pub fn remove_own_temporaries() {
    let list = match TEMPORARIES.try_lock() {
        Ok(list) => list.clone(),
        Err(_) => return,
    };
    for p in list {
        remove_path(&p);
    }
}

/// Removes the entries of `dir` named `prefix` + the id of a process that
/// no longer runs: what a killed run left (`.NAME.tmp.PID`,
/// `.vaeser-train-logs.PID`). Where liveness cannot be told (no /proc),
/// nothing is removed.
pub fn remove_stale(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && process_is_gone(pid) {
            remove_path(&entry.path());
        }
    }
}

fn process_is_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

fn remove_path(p: &Path) {
    if p.is_dir() {
        let _ = std::fs::remove_dir_all(p);
    } else {
        let _ = std::fs::remove_file(p);
    }
}

/// Writes `bytes` to `path`, or where a file of that name already exists to
/// the first free `STEM-2.EXT`, `STEM-3.EXT`, ...: a record of one command is
/// never replaced by the next command's. Atomic as [`write_atomic`]: the
/// complete temporary file is hard-linked to the name, which fails rather
/// than replaces when the name is taken (also against a concurrent writer).
/// Returns the path written.
pub fn write_new_atomic(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let tmp = dir.join(format!(".{stem}{ext}.new.{}", std::process::id()));
    write_atomic(&tmp, bytes)?;
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            path.to_path_buf()
        } else {
            dir.join(format!("{stem}-{n}{ext}"))
        };
        match std::fs::hard_link(&tmp, &candidate) {
            Ok(()) => {
                let _ = std::fs::remove_file(&tmp);
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(Error::io(&candidate, e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("vaeser-fsutil-{}", std::process::id()));
        let path = dir.join("sub").join("f.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .collect();
        assert!(leftovers.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_new_record_never_replaces_an_earlier_one() {
        let dir = std::env::temp_dir().join(format!("vaeser-fsutil-new-{}", std::process::id()));
        let path = dir.join("manifest.json");
        assert_eq!(write_new_atomic(&path, b"first").unwrap(), path);
        let second = write_new_atomic(&path, b"second").unwrap();
        assert_eq!(second, dir.join("manifest-2.json"));
        assert_eq!(
            write_new_atomic(&path, b"third").unwrap(),
            dir.join("manifest-3.json")
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(std::fs::read(&second).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(names.len(), 3, "no temporary file is left");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporaries_of_dead_processes_are_removed_and_live_ones_kept() {
        let dir = std::env::temp_dir().join(format!("vaeser-fsutil-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // No process has id 4294967295 (above Linux's pid_max).
        let dead = dir.join(".f.txt.tmp.4294967295");
        let other = dir.join(".g.txt.tmp.4294967295");
        for p in [&dead, &other] {
            std::fs::write(p, b"partial").unwrap();
        }
        write_atomic(&dir.join("f.txt"), b"done").unwrap();
        assert!(!dead.exists() || !Path::new("/proc/self").exists());
        assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"done");
        assert!(other.exists(), "a temporary of another file was removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
