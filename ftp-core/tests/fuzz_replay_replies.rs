//! Replays the fuzz seed corpora (`fuzz/corpus/reply_parser`, `fuzz/corpus/reply_decoders`)
//! through the very checks the fuzz targets run (`tests/wire_checks`), so stable `cargo test`
//! exercises them without nightly. Seeds are embedded at compile time; when a seed or a
//! regression input is added to a corpus directory, add its name to the list below.
//! `tests/replies_corpus.rs` runs the same checks on every corpus row as well.

#[path = "wire_checks/mod.rs"]
mod wire_checks;

/// Embeds the named files of one corpus directory.
macro_rules! seeds {
    ($dir:literal: $($name:literal,)*) => {
        [$(($name, &include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/", $dir, "/", $name))[..]),)*]
    };
}

#[test]
fn reply_parser_seeds() {
    let seeds = seeds!("reply_parser":
        "00-rfc-959-4-2",
        "01-rfc-959-4-2-2",
        "02-python-cpython-lib-test-test-ftplib-py",
        "03-patrickjuchli-basic-ftp-test-parsecontro",
        "04-patrickjuchli-basic-ftp-test-parsecontro",
        "05-patrickjuchli-basic-ftp-test-parsecontro",
        "06-vsftpd-3-0-3",
        "07-vsftpd-3-0-3",
        "08-vsftpd-3-0-3",
        "09-vsftpd-3-0-3",
        "10-vsftpd-3-0-3",
        "11-vsftpd-3-0-3",
        "12-vsftpd-3-0-3",
        "13-vsftpd-3-0-3",
        "14-vsftpd-3-0-3",
        "15-proftpd-1-3-8",
        "16-proftpd-1-3-8",
        "17-proftpd-1-3-8",
        "18-proftpd-1-3-8",
        "19-proftpd-1-3-8",
        "20-pure-ftpd-1-0-50",
        "21-pure-ftpd-1-0-50",
        "22-pure-ftpd-1-0-50",
        "23-pure-ftpd-1-0-50",
        "24-pure-ftpd-1-0-50",
        "25-pure-ftpd-1-0-50",
        "26-pure-ftpd-1-0-50",
        "27-pyftpdlib-2-2-0",
        "28-pyftpdlib-2-2-0",
        "29-pyftpdlib-2-2-0",
        "30-proftpd-1-3-8",
        "31-vsftpd-3-0-3",
        "32-pyftpdlib-2-2-0",
        "33-proftpd-1-3-8-over-ipv6",
        "34-hostile",
        "35-hostile",
        "36-hostile",
        "37-hostile",
        "38-hostile",
        "39-hostile",
        "40-hostile",
        "41-hostile",
        "42-hostile",
        "43-hostile",
        "44-hostile",
        "45-hostile",
    );
    assert!(seeds.len() >= 40);
    for (name, data) in seeds {
        let r = std::panic::catch_unwind(|| wire_checks::check_parser_input(data));
        assert!(r.is_ok(), "seed {name} fails the reply_parser checks");
    }
}

#[test]
fn reply_decoders_seeds() {
    let seeds = seeds!("reply_decoders":
        "00-transfer-size-rfc-959-4-2-2",
        "01-transfer-size-rfc-959-4-2-2",
        "02-transfer-size-curl-curl-lib-ftp-c",
        "03-transfer-size-curl-curl-lib-ftp-c",
        "04-transfer-size-hostile",
        "05-pasv-rfc-959-4-2-2",
        "06-pasv-python-cpython-lib-test-test-ftp",
        "07-pasv-curl-curl-lib-ftp-c",
        "08-pasv-curl-curl-lib-ftp-c",
        "09-pasv-hostile",
        "10-pasv-hostile",
        "11-pasv-hostile",
        "12-path-rfc-959-appendix-ii",
        "13-path-rfc-959-appendix-ii",
        "14-path-python-cpython-lib-test-test-ftp",
        "15-path-python-cpython-lib-test-test-ftp",
        "16-path-hostile",
        "17-path-hostile",
        "18-epsv-rfc-2428-3",
        "19-epsv-python-cpython-lib-test-test-ftp",
        "20-epsv-curl-curl-tests-data-test1233",
        "21-epsv-curl-curl-tests-data-test115",
        "22-epsv-hostile",
        "23-epsv-hostile",
        "24-epsv-hostile",
        "25-feat-rfc-2389-3-2",
        "26-feat-rfc-2389-3-2",
        "27-feat-vsftpd-3-0-3",
        "28-feat-proftpd-1-3-8",
        "29-feat-hostile",
        "30-feat-hostile",
        "31-mdtm-rfc-3659-3",
        "32-mdtm-rfc-3659-2-3",
        "33-mdtm-proftpd-1-3-8",
        "34-mdtm-pyftpdlib-2-2-0",
        "35-mdtm-hostile",
        "36-mdtm-hostile",
        "37-mdtm-hostile",
        "38-size-rfc-3659-4",
        "39-size-curl-curl-tests-data-test337",
        "40-size-vsftpd-3-0-3",
        "41-size-vsftpd-3-0-3",
        "42-size-hostile",
        "43-size-hostile",
        "44-size-hostile",
    );
    assert!(seeds.len() >= 40);
    for (name, data) in seeds {
        let r = std::panic::catch_unwind(|| wire_checks::check_decoder_input(data));
        assert!(r.is_ok(), "seed {name} fails the reply_decoders checks");
    }
}
