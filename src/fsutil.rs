//! File helpers shared by every writer: atomic writes, so an interrupted run
//! never leaves a half-written file where a complete one is expected.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` through a temporary file in the same directory and
/// a rename, creating the parent directory if needed.
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
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
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
}
