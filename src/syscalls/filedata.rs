//! The contents of a MEMFS regular file.

use std::sync::Arc;

/// Contents of a regular file. `Shared` holds data handed in by the host
/// (e.g. the stdlib zip) without copying; the first write turns it into an
/// `Owned` copy. `Owned` is itself copy-on-write across kernel clones.
#[derive(Clone, Debug)]
pub enum FileData {
    /// Immutable bytes shared with the host.
    Shared(Arc<[u8]>),
    /// Bytes owned by this file (shared with snapshots until written).
    Owned(Arc<Vec<u8>>),
}

impl Default for FileData {
    fn default() -> Self {
        FileData::Owned(Arc::new(Vec::new()))
    }
}

impl FileData {
    /// The file's bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            FileData::Shared(a) => a,
            FileData::Owned(v) => v,
        }
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The bytes, made private and writable.
    pub fn make_mut(&mut self) -> &mut Vec<u8> {
        if let FileData::Shared(a) = self {
            *self = FileData::Owned(Arc::new(a.to_vec()));
        }
        match self {
            FileData::Owned(v) => Arc::make_mut(v),
            FileData::Shared(_) => unreachable!(),
        }
    }
}

impl From<Vec<u8>> for FileData {
    fn from(v: Vec<u8>) -> Self {
        FileData::Owned(Arc::new(v))
    }
}
impl From<&[u8]> for FileData {
    fn from(v: &[u8]) -> Self {
        FileData::Owned(Arc::new(v.to_vec()))
    }
}
impl From<Arc<[u8]>> for FileData {
    fn from(v: Arc<[u8]>) -> Self {
        FileData::Shared(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_data_is_copy_on_write() {
        let data: Arc<[u8]> = Arc::from(&b"zipdata"[..]);
        let mut fd = FileData::from(data.clone());
        assert_eq!(fd.as_slice().as_ptr(), data.as_ptr());
        fd.make_mut()[0] = b'Z';
        assert_eq!(&*data, b"zipdata");
        assert_eq!(fd.as_slice(), b"Zipdata");
    }
}
