"""selfcheck.py -- checks one running test server with Python's ftplib, to tell "the server
setup is broken" apart from "our client is broken" when a test fails.

usage: python3 selfcheck.py HOST PORT [--tls]
The server's ROOT must hold a file hello.txt. Checks: anonymous login + LIST + RETR and a
refused STOR; ftptest login, STOR, RETR of the stored bytes, DELE; over IPv4 PASV and PORT,
always EPSV and EPRT; with --tls the same ftptest transfers under AUTH TLS + PROT P, with the
data connections resuming the control connection's TLS session (vsftpd and ProFTPD require it).
Prints one line per check; exit status 1 when any check failed.
"""
import ftplib
import io
import ssl
import sys


class ReusingTLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS session."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(
                conn, server_hostname=self.host, session=self.sock.session
            )
        return conn, size


def plain(host, port):
    f = ftplib.FTP()
    f.connect(host, port, timeout=10)
    return f


def run(host, port, tls):
    results = []

    def check(name, fn):
        try:
            fn()
            results.append((name, "ok"))
        except Exception as e:  # report and go on with the next check
            results.append((name, "FAIL %s: %s" % (type(e).__name__, e)))

    v6 = ":" in host
    modes = [("EPSV", True, False), ("EPRT", False, False)]
    if not v6:
        modes += [("PASV", True, True), ("PORT", False, True)]

    def anonymous():
        f = plain(host, port)
        f.login()
        lines = []
        f.retrlines("LIST", lines.append)
        assert any("hello.txt" in l for l in lines), lines
        data = io.BytesIO()
        f.retrbinary("RETR hello.txt", data.write)
        assert data.getvalue(), "empty hello.txt"
        try:
            f.storbinary("STOR anon-upload.bin", io.BytesIO(b"nope"))
        except ftplib.error_perm:
            pass
        else:
            raise AssertionError("anonymous STOR was accepted")
        f.quit()

    check("anonymous LIST/RETR/no STOR", anonymous)

    payload = bytes(range(256)) * 1000

    def ftptest(mode, passive, v4cmd):
        def go():
            f = plain(host, port)
            f.login("ftptest", "ftptest")
            assert f.pwd() == "/", f.pwd()
            f.set_pasv(passive)
            if not v4cmd and not v6:
                # ftplib uses EPSV/EPRT by itself only over IPv6: force them over IPv4 too
                f.makepasv = lambda: ftplib.parse229(f.sendcmd("EPSV"), f.sock.getpeername())
                f.sendport = lambda h, p: f.voidcmd("EPRT |1|%s|%d|" % (h, p))
            name = "up-%s.bin" % mode
            f.storbinary("STOR " + name, io.BytesIO(payload))
            got = io.BytesIO()
            f.retrbinary("RETR " + name, got.write)
            assert got.getvalue() == payload, "RETR returned other bytes"
            f.delete(name)
            f.quit()
        return go

    for mode, passive, v4cmd in modes:
        check("ftptest STOR/RETR/DELE %s" % mode, ftptest(mode, passive, v4cmd))

    if tls:
        def secure():
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            f = ReusingTLS(context=ctx)
            f.connect(host, port, timeout=10)
            f.auth()
            f.login("ftptest", "ftptest")
            f.prot_p()
            f.storbinary("STOR tls.bin", io.BytesIO(payload))
            got = io.BytesIO()
            f.retrbinary("RETR tls.bin", got.write)
            assert got.getvalue() == payload, "RETR over TLS returned other bytes"
            lines = []
            f.retrlines("LIST", lines.append)
            assert any("tls.bin" in l for l in lines), lines
            f.delete("tls.bin")
            f.quit()

        check("ftptest AUTH TLS + PROT P STOR/RETR/LIST", secure)

    failed = False
    for name, res in results:
        print("%-45s %s" % (name, res))
        failed |= res != "ok"
    return 1 if failed else 0


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) not in (2, 3) or (len(a) == 3 and a[2] != "--tls"):
        sys.exit(__doc__)
    sys.exit(run(a[0], int(a[1]), len(a) == 3))
