"""Certificates and keys for the devcluster, made with the openssl CLI.

Everything lives in one directory (.devcluster/pki). Files that already exist are
kept, so restarting the cluster keeps the same CA and the same kubeconfig.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
VALID_DAYS = "3650"
EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

APISERVER_SANS = [
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
    "IP:127.0.0.1",
    f"IP:{KUBERNETES_SERVICE_IP}",
]


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate: file stem, user name (CN) and groups (O)."""

    stem: str
    user: str
    groups: tuple[str, ...] = ()


CLIENTS = (
    ClientIdentity("admin", "arcdesk-admin", ("system:masters",)),
    ClientIdentity("kube-controller-manager", "system:kube-controller-manager"),
    ClientIdentity("kube-scheduler", "system:kube-scheduler"),
    ClientIdentity("kwok", "kwok-controller", ("system:masters",)),
    ClientIdentity("apiserver-kubelet-client", "kube-apiserver-kubelet-client",
                   ("system:masters",)),
    ClientIdentity("front-proxy-client", "front-proxy-client"),
)


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, text=True)


def subject(common_name: str, organisations: tuple[str, ...] = ()) -> str:
    return "".join(f"/O={org}" for org in organisations) + f"/CN={common_name}"


def make_ca(pki: Path, stem: str, common_name: str) -> None:
    if (pki / f"{stem}.crt").exists():
        return
    openssl("req", "-x509", *EC_KEY, "-days", VALID_DAYS, "-subj", subject(common_name),
            "-keyout", str(pki / f"{stem}.key"), "-out", str(pki / f"{stem}.crt"),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")


def make_leaf(pki: Path, ca: str, stem: str, subj: str, extensions: list[str]) -> None:
    """Key + CSR + certificate signed by ``ca``, with the given x509v3 extensions."""
    if (pki / f"{stem}.crt").exists():
        return
    with tempfile.TemporaryDirectory() as scratch:
        csr = Path(scratch) / "leaf.csr"
        ext_file = Path(scratch) / "leaf.ext"
        ext_file.write_text("\n".join(extensions) + "\n")
        openssl("req", "-new", *EC_KEY, "-subj", subj,
                "-keyout", str(pki / f"{stem}.key"), "-out", str(csr))
        openssl("x509", "-req", "-in", str(csr), "-days", VALID_DAYS,
                "-CA", str(pki / f"{ca}.crt"), "-CAkey", str(pki / f"{ca}.key"),
                "-CAcreateserial", "-extfile", str(ext_file),
                "-out", str(pki / f"{stem}.crt"))


CLIENT_EXTENSIONS = ["basicConstraints=CA:FALSE",
                     "keyUsage=critical,digitalSignature,keyEncipherment",
                     "extendedKeyUsage=clientAuth"]


def make_client(pki: Path, ca: str, stem: str, user: str,
                groups: tuple[str, ...] = ()) -> None:
    """A client certificate: user name (CN) and groups (O), signed by ``ca``."""
    make_leaf(pki, ca, stem, subject(user, groups), CLIENT_EXTENSIONS)


def make_service_account_keys(pki: Path) -> None:
    if (pki / "sa.pub").exists():
        return
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(pki / "sa.key"))
    openssl("ec", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))


def ensure_pki(pki: Path) -> None:
    """Create whatever is missing: CAs, serving cert, client certs, SA key pair."""
    pki.mkdir(parents=True, exist_ok=True)
    pki.chmod(0o700)
    make_ca(pki, "ca", "arcdesk-devcluster-ca")
    make_ca(pki, "front-proxy-ca", "arcdesk-devcluster-front-proxy-ca")
    make_leaf(pki, "ca", "apiserver", subject("kube-apiserver"), [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        "subjectAltName=" + ",".join(APISERVER_SANS),
    ])
    for client in CLIENTS:
        ca = "front-proxy-ca" if client.stem == "front-proxy-client" else "ca"
        make_client(pki, ca, client.stem, client.user, client.groups)
    make_service_account_keys(pki)
