# Shared by make-ca, make-serving-cert and make-client-cert: option parsing helpers and the
# openssl steps. Keys are ECDSA P-256, signatures SHA-256, key files mode 0600.
# shellcheck shell=bash

set -euo pipefail
umask 077

CERTS_DIR=${CERTS_DIR:-"$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/out"}
RENEW_BEFORE_DAYS=30

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
usage_error() { echo "$(basename "$0"): $*" >&2; echo "usage: $USAGE" >&2; exit 2; }
note() { echo "$(basename "$0"): $*" >&2; }

command -v openssl >/dev/null 2>&1 || die "needs openssl (Debian: apt-get install openssl)"

# A name that goes into a certificate subject as it is: no characters that -subj or RFC 2253 treat specially.
check_name() {
    case "$2" in
        "" | *[/,=+\\\"\<\>\;#]* | *$'\n'*) usage_error "$1 '$2' is empty or contains one of / , = + \\ \" < > ; # or a newline" ;;
    esac
}

check_days() {
    case "$1" in
        '' | *[!0-9]* | 0) usage_error "--days wants a positive number of days, not '$1'" ;;
    esac
}

new_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# The public key of a certificate or of a private key, for comparing the two.
certificate_public_key() { openssl x509 -in "$1" -noout -pubkey 2>/dev/null; }
private_public_key() { openssl pkey -in "$1" -pubout 2>/dev/null; }

key_matches() {
    local from_certificate
    from_certificate=$(certificate_public_key "$1") || return 1
    [ -n "$from_certificate" ] && [ "$from_certificate" = "$(private_public_key "$2")" ]
}

# The subject as RFC 2253 prints it (most specific first), e.g. CN=alice,O=team-b,O=team-a.
certificate_subject() {
    openssl x509 -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//'
}

# The subjectAltName entries, one per line, sorted, written as DNS:name and IP:address.
certificate_alt_names() {
    openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr ',' '\n' |
        sed -e 's/^ *//' -e 's/ *$//' -e 's/^IP Address:/IP:/' | grep -v '^$' | sort
}

# True when a leaf certificate and its key exist, belong together, chain to the CA, are issued to
# the expected subject and names, and stay valid for RENEW_BEFORE_DAYS more days (a third of DAYS
# for short-lived certificates).
leaf_is_current() {
    local certificate=$1 key=$2 subject=$3 alt_names=$4 days=$5
    local renew_before=$((days / 3 < RENEW_BEFORE_DAYS ? days / 3 : RENEW_BEFORE_DAYS))
    [ -f "$certificate" ] && [ -f "$key" ] || return 1
    key_matches "$certificate" "$key" || return 1
    openssl verify -CAfile "$CERTS_DIR/ca.crt" "$certificate" >/dev/null 2>&1 || return 1
    openssl x509 -in "$certificate" -noout -checkend $((renew_before * 86400)) >/dev/null 2>&1 || return 1
    [ "$(certificate_subject "$certificate")" = "$subject" ] || return 1
    [ "$(certificate_alt_names "$certificate")" = "$alt_names" ]
}

require_ca() {
    [ -f "$CERTS_DIR/ca.crt" ] && [ -f "$CERTS_DIR/ca.key" ] ||
        die "no CA in $CERTS_DIR (ca.crt, ca.key): run certs/make-ca first"
}

# Issues NAME.crt and NAME.key in CERTS_DIR, signed by the CA, with the -subj SUBJECT and the
# x509v3 extension lines EXTENSIONS. Both files are replaced only once the new pair is complete.
issue_leaf() {
    local name=$1 subject=$2 extensions=$3 days=$4
    local work
    work=$(mktemp -d "$CERTS_DIR/.issue.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    new_key "$work/key.pem"
    openssl req -new -key "$work/key.pem" -subj "$subject" -out "$work/request.pem"
    printf '%s\n' "$extensions" \
        "basicConstraints=critical,CA:FALSE" \
        "subjectKeyIdentifier=hash" \
        "authorityKeyIdentifier=keyid:always" >"$work/extensions.cnf"
    openssl x509 -req -in "$work/request.pem" -CA "$CERTS_DIR/ca.crt" -CAkey "$CERTS_DIR/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
        -extfile "$work/extensions.cnf" -out "$work/certificate.pem" 2>/dev/null
    chmod 0644 "$work/certificate.pem"
    mv -f "$work/key.pem" "$CERTS_DIR/$name.key"
    mv -f "$work/certificate.pem" "$CERTS_DIR/$name.crt"
    rm -rf "$work"
    trap - EXIT
}
