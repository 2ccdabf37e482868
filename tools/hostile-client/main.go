// Command hostile-client attacks a server the way a hostile or broken client would, so that the
// end-to-end tests can check how the proxy defends itself. Subcommands:
//
//	raw   sends the exact bytes of a file (at once or dribbled, slowloris) and parses the answer
//	hold  opens many connections and keeps them open (idle, mid-handshake or dribbling)
//	h2    HTTP/2 attacks over TLS: rapid reset, floods, too many streams, oversized frames, ...
//
// Every subcommand prints one JSON object on stdout at the end (hold prints a "holding" line
// first), diagnostics on stderr. It exits 0 when the attack ran, whatever the server did; 1 when it
// could not run (a bad flag value, no connection at all, no HTTP/2); 2 when the command line
// cannot be parsed.
package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// dialTimeout bounds every connection attempt (TCP connect, and the TLS handshake where one is made).
const dialTimeout = 5 * time.Second

// subcommands maps each subcommand to its runner, which returns the report to print.
var subcommands = map[string]func(args []string) (interface{}, error){
	"raw":  rawCommand,
	"hold": holdCommand,
	"h2":   h2Command,
}

// usageError is a command line that cannot be parsed (exit 2).
type usageError struct{ error }

func main() {
	if len(os.Args) < 2 || subcommands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: hostile-client raw|hold|h2 [flags]  (hostile-client SUBCOMMAND -h lists the flags)")
		os.Exit(2)
	}
	report, err := subcommands[os.Args[1]](os.Args[2:])
	var usage usageError
	switch {
	case errors.As(err, &usage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "hostile-client %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(report); err != nil {
		fmt.Fprintf(os.Stderr, "hostile-client: %v\n", err)
		os.Exit(1)
	}
}

// parseFlags parses args into flags, which must consume them all; failures are usage errors
// (the flag package has already printed why).
func parseFlags(flags *flag.FlagSet, args []string) error {
	if err := flags.Parse(args); err != nil {
		return usageError{err}
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "unexpected argument %q\n", flags.Arg(0))
		return usageError{fmt.Errorf("unexpected argument %q", flags.Arg(0))}
	}
	return nil
}

// target is where raw and hold connect, and how.
type target struct {
	addr   string
	useTLS bool
	alpn   string
}

// register adds -addr, -tls and -alpn to flags.
func (t *target) register(flags *flag.FlagSet) {
	flags.StringVar(&t.addr, "addr", "", "host:port to attack (required)")
	flags.BoolVar(&t.useTLS, "tls", false, "speak TLS (certificate not verified)")
	flags.StringVar(&t.alpn, "alpn", "", "comma-separated ALPN protocols to offer with -tls, e.g. http/1.1 or h2")
}

// check rejects a missing -addr and -alpn without -tls.
func (t *target) check() error {
	if t.addr == "" {
		return errors.New("-addr is required")
	}
	if t.alpn != "" && !t.useTLS {
		return errors.New("-alpn needs -tls")
	}
	return nil
}

// tlsConfig is the client TLS configuration: any certificate, SNI from -addr's host, ALPN from -alpn.
func (t *target) tlsConfig() *tls.Config {
	config := &tls.Config{InsecureSkipVerify: true, ServerName: hostOf(t.addr)}
	if t.alpn != "" {
		config.NextProtos = strings.Split(t.alpn, ",")
	}
	return config
}

// hostOf returns the host part of a host:port address.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// endReason names how a read or write ended: eof, reset, timeout or error.
func endReason(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	}
	return "error"
}

// isTimeout reports whether err is a deadline passing.
func isTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// seconds returns d in seconds, rounded to the millisecond.
func seconds(d time.Duration) float64 {
	return float64(d.Milliseconds()) / 1000
}
