"""The pyftpdlib server behind start-pyftpdlib.sh (run with the venv's python).

Same conventions as the other test servers: anonymous may read ROOT, ftptest/ftptest may read
and write it, explicit FTPS (AUTH TLS) is offered but not required, passive ports come from the
given range and active connections may only go back to the client's own address.

usage: pyftpdlib_launcher.py --host H --port P --root DIR --state DIR --pasv MIN-MAX
"""
import argparse
import logging
import os

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler
from pyftpdlib.servers import FTPServer

# pyftpdlib permission letters: e=CWD l=LIST r=RETR | a=APPE d=DELE f=RNFR/RNTO m=MKD w=STOR
# M=SITE CHMOD T=MFMT
READ_ONLY = "elr"
READ_WRITE = "elradfmwMT"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True, choices=["127.0.0.1", "::1"])
    p.add_argument("--port", required=True, type=int)
    p.add_argument("--root", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--pasv", required=True, help="MIN-MAX")
    return p.parse_args()


def main():
    args = parse_args()
    low, high = (int(x) for x in args.pasv.split("-", 1))
    logging.basicConfig(
        filename=os.path.join(args.state, "pyftpdlib.log"),
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )

    users = DummyAuthorizer()
    users.add_user("ftptest", "ftptest", args.root, perm=READ_WRITE)
    users.add_anonymous(args.root, perm=READ_ONLY)

    class Handler(TLS_FTPHandler):
        authorizer = users
        certfile = os.path.join(args.state, "cert.pem")
        keyfile = os.path.join(args.state, "key.pem")
        tls_control_required = False
        tls_data_required = False
        passive_ports = range(low, high + 1)
        permit_foreign_addresses = False
        permit_privileged_ports = False

    server = FTPServer((args.host, args.port), Handler)
    server.max_cons = 300
    server.max_cons_per_ip = 300
    server.serve_forever()


if __name__ == "__main__":
    main()
