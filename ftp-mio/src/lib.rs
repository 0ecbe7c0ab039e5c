//! FTP sessions driven by a caller-owned `mio::Poll`.
