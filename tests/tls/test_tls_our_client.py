"""OUR client (duplex-tls-client) over wss://: against a Python websockets server with TLS and
against duplex-echo, echoing up to 1 MiB each way; and refusing, with a clear error, a server
whose certificate names another host, names no IP, or comes from a CA it does not trust."""

import pytest

from conftest import HERE, our_client, wss_url


@pytest.fixture
def py_wss(start_server, pki):
    def start(cert="server"):
        return start_server.python(HERE / "py_wss_echo_server.py", "--cert",
                                   str(pki / f"{cert}.pem"), "--key", str(pki / f"{cert}.key"))
    return start


def assert_passes(result):
    assert result.returncode == 0, f"stdout: {result.stdout}\nstderr: {result.stderr}"
    assert "16 echoes OK" in result.stdout


def assert_refused(result, reason):
    assert result.returncode == 3, f"stdout: {result.stdout}\nstderr: {result.stderr}"
    assert f"error: {reason}" in result.stderr, result.stderr


def test_our_client_against_python_websockets(py_wss, pki):
    result = our_client(wss_url(py_wss(), "/py"), "--ca", str(pki / "ca.pem"))
    assert_passes(result)
    assert "tls TLSv1.3 alpn http/1.1" in result.stdout


def test_our_client_against_duplex_echo(wss_echo, pki):
    result = our_client(wss_url(wss_echo(), "/ours"), "--ca", str(pki / "ca.pem"))
    assert_passes(result)
    assert "tls TLSv1.3 alpn http/1.1" in result.stdout


def test_name_given_instead_of_the_address_is_checked(py_wss, pki):
    result = our_client(wss_url(py_wss()), "--ca", str(pki / "ca.pem"), "--server-name",
                        "localhost")
    assert_passes(result)


def test_a_host_name_is_looked_up_and_its_certificate_checked(py_wss, pki):
    # wss://localhost: the name goes through the client's resolver thread, TLS starts once the
    # TCP connect completes, and the certificate must name localhost. One that names only the
    # name (no IP) passes here, where connecting by address refuses it (below).
    server = py_wss("dns-only")
    result = our_client(f"wss://localhost:{server.port}/py", "--ca", str(pki / "ca.pem"))
    assert_passes(result)


def test_wrong_host_name_is_refused(py_wss, pki):
    result = our_client(wss_url(py_wss()), "--ca", str(pki / "ca.pem"), "--server-name",
                        "wrong.example")
    assert_refused(result, "certificate verify failed: hostname mismatch")


def test_certificate_without_the_ip_is_refused(py_wss, pki):
    result = our_client(wss_url(py_wss("dns-only")), "--ca", str(pki / "ca.pem"))
    assert_refused(result, "certificate verify failed: IP address mismatch")


def test_untrusted_ca_is_refused(py_wss, pki):
    result = our_client(wss_url(py_wss("rogue")), "--ca", str(pki / "ca.pem"))
    assert_refused(result, "certificate verify failed: unable to get local issuer certificate")


def test_system_store_does_not_trust_the_test_ca(wss_echo):
    result = our_client(wss_url(wss_echo()))
    assert result.returncode == 3, result.stderr
    assert "error: certificate verify failed: " in result.stderr, result.stderr


def test_insecure_skips_verification_only_when_asked(py_wss):
    assert_passes(our_client(wss_url(py_wss("rogue")), "--insecure"))


def test_missing_ca_file_is_reported(py_wss, tmp_path):
    result = our_client(wss_url(py_wss()), "--ca", str(tmp_path / "none.pem"))
    assert_refused(result, f"cannot load trusted CAs from {tmp_path / 'none.pem'}")


def test_wss_to_a_plain_ws_server_fails_cleanly(start_server):
    plain = start_server.echo()
    result = our_client(f"wss://{plain.host}:{plain.port}/", "--insecure")
    assert result.returncode == 3, result.stderr
    assert "error: " in result.stderr
