//! Blocking FTP client over `std::net`, with the method names of Python's `ftplib`.
