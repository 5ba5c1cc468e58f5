//! What to read: files, directories, glob patterns, standard input, or bytes already in memory.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use crate::error::{InputError, InputErrorKind};

/// One thing to read: a file, standard input, or bytes in memory (a downloaded content blob).
#[derive(Clone, Debug)]
pub struct Input {
    pub(crate) kind: InputKind,
}

#[derive(Clone, Debug)]
pub(crate) enum InputKind {
    Stdin,
    Path(PathBuf),
    Bytes { name: Arc<str>, data: Bytes },
}

impl Input {
    /// A file.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Self {
            kind: InputKind::Path(path.into()),
        }
    }

    /// Standard input.
    pub fn stdin() -> Self {
        Self {
            kind: InputKind::Stdin,
        }
    }

    /// Bytes already in memory, named `name` in locations and errors.
    pub fn bytes(name: &str, data: impl Into<Bytes>) -> Self {
        Self {
            kind: InputKind::Bytes {
                name: name.into(),
                data: data.into(),
            },
        }
    }

    /// The file this input reads, if it is a file.
    pub fn file(&self) -> Option<&std::path::Path> {
        match &self.kind {
            InputKind::Path(p) => Some(p),
            _ => None,
        }
    }

    /// The name used in locations and errors: the path, `<stdin>`, or the given name.
    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            InputKind::Stdin => f.write_str("<stdin>"),
            InputKind::Path(p) => write!(f, "{}", p.display()),
            InputKind::Bytes { name, .. } => f.write_str(name),
        }
    }
}

/// The inputs that command-line arguments name, and the arguments that name nothing.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Files to read, in order: each argument in turn, a directory's files sorted by path.
    pub inputs: Vec<Input>,
    /// Arguments that could not be expanded (no such file, a glob matching nothing, a directory
    /// that cannot be listed).
    pub errors: Vec<InputError>,
}

impl Inputs {
    /// Expands arguments the way a user means them: `-` is standard input; an existing path is a
    /// file, or a directory read recursively in sorted order (skipping hidden entries); anything else
    /// is a glob pattern (`exports/*.json`, `logs/**/*.gz`), expanded in sorted order.
    pub fn expand<S: AsRef<OsStr>>(args: &[S]) -> Inputs {
        let mut out = Inputs::default();
        for arg in args {
            let arg = arg.as_ref();
            if arg == "-" {
                out.inputs.push(Input::stdin());
                continue;
            }
            let path = Path::new(arg);
            if path.exists() {
                out.add_path(path);
                continue;
            }
            let pattern = arg.to_string_lossy();
            if !pattern.contains(['*', '?', '[']) {
                out.errors
                    .push(InputError::new(pattern, InputErrorKind::NotFound));
                continue;
            }
            match glob::glob(&pattern) {
                Err(e) => out.errors.push(InputError::new(
                    pattern.as_ref(),
                    InputErrorKind::Pattern(e.to_string()),
                )),
                Ok(paths) => {
                    let before = out.inputs.len() + out.errors.len();
                    for entry in paths {
                        match entry {
                            Ok(p) => out.add_path(&p),
                            Err(e) => out.errors.push(InputError::new(
                                e.path().display().to_string(),
                                InputErrorKind::Open(e.into()),
                            )),
                        }
                    }
                    if out.inputs.len() + out.errors.len() == before {
                        out.errors
                            .push(InputError::new(pattern, InputErrorKind::NotFound));
                    }
                }
            }
        }
        out
    }

    fn add_path(&mut self, path: &Path) {
        if !path.is_dir() {
            self.inputs.push(Input::path(path));
            return;
        }
        let walk = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walk {
            match entry {
                Ok(e) if e.file_type().is_file() => self.inputs.push(Input::path(e.into_path())),
                Ok(_) => {}
                Err(e) => {
                    let at = e.path().unwrap_or(path).display().to_string();
                    let io = e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("filesystem loop"));
                    self.errors
                        .push(InputError::new(at, InputErrorKind::Open(io)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_read_recursively_in_order_without_hidden_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("b/c")).unwrap();
        for f in ["b/c/z.json", "a.json", "b/y.json", ".hidden.json"] {
            std::fs::write(d.join(f), "{}").unwrap();
        }
        let got = Inputs::expand(&[d]);
        assert!(got.errors.is_empty());
        let names: Vec<String> = got
            .inputs
            .iter()
            .map(|i| {
                i.name()
                    .trim_start_matches(&*d.display().to_string())
                    .to_owned()
            })
            .collect();
        assert_eq!(names, ["/a.json", "/b/c/z.json", "/b/y.json"]);
    }

    #[test]
    fn globs_expand_and_missing_paths_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["x1.json", "x2.json", "y.csv"] {
            std::fs::write(d.join(f), "{}").unwrap();
        }
        let pattern = format!("{}/x*.json", d.display());
        let missing = format!("{}/nope.json", d.display());
        let none = format!("{}/q*.json", d.display());
        let got = Inputs::expand(&[pattern.as_str(), "-", missing.as_str(), none.as_str()]);
        let names: Vec<String> = got.inputs.iter().map(Input::name).collect();
        assert_eq!(names.len(), 3);
        assert!(names[0].ends_with("x1.json") && names[1].ends_with("x2.json"));
        assert_eq!(names[2], "<stdin>");
        assert_eq!(got.errors.len(), 2);
        assert!(matches!(got.errors[0].kind(), InputErrorKind::NotFound));
        assert_eq!(got.errors[1].input(), none);
    }
}
