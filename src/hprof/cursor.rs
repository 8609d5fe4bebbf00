//! A bounds-checked big-endian reader over a slice of the mapped dump.

/// The slice ended before a value could be read. `offset` is where the value started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortRead {
    pub offset: u64,
    pub needed: u64,
    pub available: u64,
}

/// Reads big-endian values; `base` is the file offset of `buf[0]` so errors can name positions.
#[derive(Clone)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
    id_size: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8], base: u64, id_size: usize) -> Self {
        Cursor {
            buf,
            pos: 0,
            base,
            id_size,
        }
    }

    /// File offset of the next byte.
    #[inline(always)]
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    #[inline(always)]
    pub fn position(&self) -> usize {
        self.pos
    }

    #[inline(always)]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The whole slice this cursor reads.
    pub fn buffer(&self) -> &'a [u8] {
        self.buf
    }

    #[inline(always)]
    pub fn id_size(&self) -> usize {
        self.id_size
    }

    #[inline(always)]
    fn short(&self, needed: usize) -> ShortRead {
        ShortRead {
            offset: self.offset(),
            needed: needed as u64,
            available: self.remaining() as u64,
        }
    }

    #[inline(always)]
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], ShortRead> {
        if self.remaining() < n {
            return Err(self.short(n));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Like `bytes` for a count read from the dump, which may not fit in memory arithmetic.
    #[inline(always)]
    pub fn bytes_u64(&mut self, n: u64) -> Result<&'a [u8], ShortRead> {
        if (self.remaining() as u64) < n {
            return Err(ShortRead {
                offset: self.offset(),
                needed: n,
                available: self.remaining() as u64,
            });
        }
        self.bytes(n as usize)
    }

    #[inline(always)]
    pub fn skip(&mut self, n: usize) -> Result<(), ShortRead> {
        self.bytes(n).map(|_| ())
    }

    #[inline(always)]
    pub fn u1(&mut self) -> Result<u8, ShortRead> {
        Ok(self.bytes(1)?[0])
    }

    #[inline(always)]
    pub fn u2(&mut self) -> Result<u16, ShortRead> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    #[inline(always)]
    pub fn u4(&mut self) -> Result<u32, ShortRead> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    #[inline(always)]
    pub fn u8(&mut self) -> Result<u64, ShortRead> {
        let b = self.bytes(8)?;
        Ok(u64::from_be_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    #[inline(always)]
    pub fn id(&mut self) -> Result<u64, ShortRead> {
        let n = self.id_size;
        let b = self.bytes(n)?;
        Ok(read_id(b, n))
    }
}

/// Reads an identifier of `id_size` (4 or 8) bytes from the start of `b`.
#[inline(always)]
pub fn read_id(b: &[u8], id_size: usize) -> u64 {
    if id_size == 8 {
        u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    } else {
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_and_reports_offsets() {
        let data = [0u8, 1, 0, 0, 0, 2, 0xff];
        let mut c = Cursor::new(&data, 100, 4);
        assert_eq!(c.u2().unwrap(), 1);
        assert_eq!(c.u4().unwrap(), 2);
        let err = c.u2().unwrap_err();
        assert_eq!(err.offset, 106);
        assert_eq!(err.needed, 2);
        assert_eq!(err.available, 1);
    }
}
