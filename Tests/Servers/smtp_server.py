#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) on 127.0.0.1 for Detour's tests.

Usage: smtp_server.py --dir DIR [--starttls | --implicit-tls] [--auth USER:PASSWORD [--auth-only PLAIN|LOGIN] [--auth-after-tls]]
                      [--tempfail-first N] [--reject ADDRESS ...] [--lifetime SECONDS]

  --dir DIR            where it writes what it received (created if missing):
                         DIR/messages.jsonl   one JSON line per accepted message:
                                              {"peer": client port, "mail_from", "rcpt_tos",
                                               "data_b64": raw message bytes, "tls": bool, "login"}
                         DIR/connections.log  one line per TCP connection accepted ("<client port>")
                         DIR/ca.pem           with TLS: the CA that signed the server's certificate
  --starttls           offer STARTTLS, with a certificate for 127.0.0.1/localhost made at start-up
  --implicit-tls       speak TLS from the first byte (smtps://), same certificate
  --auth U:P           require AUTH (PLAIN or LOGIN) with this user and password; TLS not required
  --auth-only M        offer only this AUTH mechanism
  --auth-after-tls     with --auth and --starttls: offer AUTH only once STARTTLS is done, as most
                       submission servers do (before it, EHLO lists no AUTH and MAIL FROM gets 530)
  --tempfail-first N   answer "451 4.3.0" to the first N messages (at DATA), then accept
  --reject ADDRESS     answer "550 5.1.1" to RCPT TO for this address (repeatable)
  --port N             listen on port N (default: any free port)
Prints "READY <port>" on stdout once listening. Stops on SIGTERM, or by itself after --lifetime.
"""
import argparse, asyncio, base64, datetime, ipaddress, json, os, signal, ssl, threading, time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--starttls", action="store_true")
ap.add_argument("--implicit-tls", action="store_true")
ap.add_argument("--auth")
ap.add_argument("--auth-only", choices=["PLAIN", "LOGIN"])
ap.add_argument("--auth-after-tls", action="store_true")
ap.add_argument("--tempfail-first", type=int, default=0)
ap.add_argument("--reject", action="append", default=[])
ap.add_argument("--pipelining", action="store_true", help="offer PIPELINING (RFC 2920) in the EHLO reply")
ap.add_argument("--data-delay", type=float, default=0, help="wait this long before answering the end of DATA")
ap.add_argument("--idle-timeout", type=float, default=0, help="close a connection idle this long (421, as aiosmtpd does)")
ap.add_argument("--lifetime", type=float, default=600)
ap.add_argument("--port", type=int, default=0, help="listen on this port (default: any free one)")
args = ap.parse_args()
os.makedirs(args.dir, exist_ok=True)

lock = threading.Lock()
counters = {"data": 0}
rejected = {a.lower() for a in args.reject}


def make_tls_context(directory):
    """A CA and a server certificate for 127.0.0.1 signed by it; writes the CA to DIR/ca.pem."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID

    now = datetime.datetime.now(datetime.timezone.utc)
    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (x509.CertificateBuilder()
               .subject_name(name("Detour Test CA")).issuer_name(name("Detour Test CA"))
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(name("127.0.0.1")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    cert_path, key_path = os.path.join(directory, "server.pem"), os.path.join(directory, "server.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with open(os.path.join(directory, "ca.pem"), "wb") as f:
        f.write(ca_cert.public_bytes(pem))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


def append(name, line):
    with lock, open(os.path.join(args.dir, name), "a") as f:
        f.write(line + "\n")


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in rejected:
            return f"550 5.1.1 <{address}>: Recipient address rejected: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if args.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server, session, envelope):
        # When each message's end of data arrived, to show which messages were outstanding together.
        append("data_times.log", repr(time.monotonic()))
        if args.data_delay:
            await asyncio.sleep(args.data_delay)
        with lock:
            counters["data"] += 1
            number = counters["data"]
        if number <= args.tempfail_first:
            return "451 4.3.0 Mailbox busy, try again later"
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        append("messages.jsonl", json.dumps({
            "peer": session.peer[1], "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
            "data_b64": base64.b64encode(envelope.original_content or b"").decode(),
            "tls": session.ssl is not None, "login": login}))
        return f"250 2.0.0 Ok: queued as M{number}"


def authenticator(server, session, envelope, mechanism, auth_data):
    user, _, password = args.auth.partition(":")
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == user.encode() and auth_data.password == password.encode())
    return AuthResult(success=ok, handled=False, auth_data=user.encode() if ok else None)


class CountingSMTP(SMTP):
    """Logs each TCP connection once (connection_made runs again after STARTTLS)."""
    seen = set()

    def connection_made(self, transport):
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        if peer and peer[1] not in CountingSMTP.seen:
            CountingSMTP.seen.add(peer[1])
            append("connections.log", str(peer[1]))

    def data_received(self, data):
        # Which commands arrived in one read: "MAIL RCPT DATA" shows a pipelined envelope.
        verbs = [line.split(b":")[0].split(b" ")[0].decode("ascii", "replace").upper()
                 for line in data.split(b"\r\n") if line[:4].upper() in (b"MAIL", b"RCPT", b"DATA")]
        if verbs:
            append("reads.log", " ".join(verbs))
        super().data_received(data)


async def main():
    options = dict(hostname="detour-test", decode_data=False, data_size_limit=10 * 1024 * 1024)
    if args.idle_timeout:
        options["timeout"] = args.idle_timeout
    if args.starttls:
        options["tls_context"] = make_tls_context(args.dir)
    if args.auth:
        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.auth_after_tls)
        if args.auth_only:
            options["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN") if m != args.auth_only]
    implicit = make_tls_context(args.dir) if args.implicit_tls else None
    handler = Handler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: CountingSMTP(handler, **options), "127.0.0.1", args.port,
                                      backlog=128, ssl=implicit)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("READY", server.sockets[0].getsockname()[1], flush=True)
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.lifetime)
    except asyncio.TimeoutError:
        pass
    server.close()


asyncio.run(main())
