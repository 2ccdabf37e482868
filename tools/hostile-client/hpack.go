package main

import (
	"errors"
	"fmt"
)

// A minimal HPACK (RFC 7541): an encoder for request header blocks (literal fields, new names, no
// Huffman coding, so the server's decoding table never changes) and a decoder complete enough to
// follow the server's dynamic table, Huffman-coded strings included, and read every response's
// :status.

// headerField is one decoded header.
type headerField struct{ name, value string }

// appendLiteral appends name: value as a literal header field without indexing, with a new name.
func appendLiteral(block []byte, name, value string) []byte {
	block = append(block, 0x00)
	block = appendString(block, name)
	return appendString(block, value)
}

// appendString appends s as a string literal without Huffman coding.
func appendString(block []byte, s string) []byte {
	block = appendInt(block, 0x00, 7, uint64(len(s)))
	return append(block, s...)
}

// appendInt appends v as an integer with an n-bit prefix, the bits above the prefix taken from first.
func appendInt(block []byte, first byte, n uint, v uint64) []byte {
	limit := uint64(1)<<n - 1
	if v < limit {
		return append(block, first|byte(v))
	}
	block = append(block, first|byte(limit))
	for v -= limit; v >= 128; v >>= 7 {
		block = append(block, byte(v&0x7f)|0x80)
	}
	return append(block, byte(v))
}

// errUndecodable is any header block the decoder cannot follow; the table is then out of step, so
// every later block is undecodable too.
var errUndecodable = errors.New("undecodable header block")

// hpackDecoder decodes the header blocks of one connection, in order.
type hpackDecoder struct {
	dynamic []headerField // newest first
	size    int
	maxSize int // the encoder's current limit, at most what we allow (the default, 4096)
	broken  bool
}

// defaultTableSize is SETTINGS_HEADER_TABLE_SIZE, which the client leaves at its default.
const defaultTableSize = 4096

// newHPACKDecoder returns a decoder with an empty dynamic table of the default size.
func newHPACKDecoder() *hpackDecoder {
	return &hpackDecoder{maxSize: defaultTableSize}
}

// decode returns the fields of one complete header block.
func (d *hpackDecoder) decode(block []byte) ([]headerField, error) {
	if d.broken {
		return nil, errUndecodable
	}
	fields, err := d.decodeFields(block)
	if err != nil {
		d.broken = true
		return nil, fmt.Errorf("%w: %v", errUndecodable, err)
	}
	return fields, nil
}

// decodeFields decodes the representations of block one after the other.
func (d *hpackDecoder) decodeFields(block []byte) ([]headerField, error) {
	var fields []headerField
	for len(block) > 0 {
		var field headerField
		var err error
		switch first := block[0]; {
		case first&0x80 != 0: // indexed field
			var index uint64
			if index, block, err = readInt(block, 7); err == nil {
				field, err = d.entry(index)
			}
		case first&0xc0 == 0x40: // literal with incremental indexing
			if field, block, err = d.readLiteral(block, 6); err == nil {
				d.add(field)
			}
		case first&0xe0 == 0x20: // dynamic table size update
			if block, err = d.resize(block); err != nil {
				return nil, err
			}
			continue
		default: // literal without indexing (0000) or never indexed (0001)
			field, block, err = d.readLiteral(block, 4)
		}
		if err != nil {
			return nil, err
		}
		fields = append(fields, field)
	}
	return fields, nil
}

// resize applies the dynamic table size update at the start of block.
func (d *hpackDecoder) resize(block []byte) ([]byte, error) {
	size, rest, err := readInt(block, 5)
	if err != nil {
		return nil, err
	}
	if size > defaultTableSize {
		return nil, fmt.Errorf("table size %d above %d", size, defaultTableSize)
	}
	d.maxSize = int(size)
	d.evict()
	return rest, nil
}

// readLiteral reads a literal field whose name index has an n-bit prefix (0: a new name follows).
func (d *hpackDecoder) readLiteral(block []byte, n uint) (field headerField, rest []byte, err error) {
	index, rest, err := readInt(block, n)
	if err != nil {
		return field, nil, err
	}
	if index == 0 {
		field.name, rest, err = readString(rest)
	} else {
		var named headerField
		named, err = d.entry(index)
		field.name = named.name
	}
	if err != nil {
		return field, nil, err
	}
	field.value, rest, err = readString(rest)
	return field, rest, err
}

// entry returns the field at index in the static table followed by the dynamic one.
func (d *hpackDecoder) entry(index uint64) (headerField, error) {
	switch {
	case index >= 1 && index <= uint64(len(staticTable)):
		return staticTable[index-1], nil
	case index > uint64(len(staticTable)) && index-uint64(len(staticTable)) <= uint64(len(d.dynamic)):
		return d.dynamic[index-uint64(len(staticTable))-1], nil
	}
	return headerField{}, fmt.Errorf("index %d out of range", index)
}

// add inserts field at the front of the dynamic table and evicts what no longer fits.
func (d *hpackDecoder) add(field headerField) {
	d.dynamic = append([]headerField{field}, d.dynamic...)
	d.size += entrySize(field)
	d.evict()
}

// evict drops the oldest entries until the table fits its size limit.
func (d *hpackDecoder) evict() {
	for d.size > d.maxSize {
		last := len(d.dynamic) - 1
		d.size -= entrySize(d.dynamic[last])
		d.dynamic = d.dynamic[:last]
	}
}

// entrySize is a table entry's size as RFC 7541 section 4.1 counts it.
func entrySize(field headerField) int {
	return len(field.name) + len(field.value) + 32
}

// readInt reads an integer with an n-bit prefix from the start of block.
func readInt(block []byte, n uint) (uint64, []byte, error) {
	if len(block) == 0 {
		return 0, nil, errors.New("truncated integer")
	}
	limit := uint64(1)<<n - 1
	v := uint64(block[0]) & limit
	if v < limit {
		return v, block[1:], nil
	}
	for i, shift := 1, uint(0); i < len(block) && shift < 32; i, shift = i+1, shift+7 {
		v += uint64(block[i]&0x7f) << shift
		if block[i]&0x80 == 0 {
			return v, block[i+1:], nil
		}
	}
	return 0, nil, errors.New("truncated or oversized integer")
}

// readString reads a string literal, decoding Huffman coding.
func readString(block []byte) (string, []byte, error) {
	if len(block) == 0 {
		return "", nil, errors.New("truncated string")
	}
	huffman := block[0]&0x80 != 0
	length, rest, err := readInt(block, 7)
	if err != nil {
		return "", nil, err
	}
	if length > uint64(len(rest)) {
		return "", nil, errors.New("truncated string")
	}
	raw, rest := rest[:length], rest[length:]
	if !huffman {
		return string(raw), rest, nil
	}
	decoded, err := huffmanDecode(raw)
	return decoded, rest, err
}

// huffmanDecode decodes a Huffman-coded string; the padding must be at most 7 one bits.
func huffmanDecode(coded []byte) (string, error) {
	var decoded []byte
	node, padding, ones := 0, 0, true
	for _, b := range coded {
		for shift := 7; shift >= 0; shift-- {
			bit := b >> shift & 1
			switch next := huffmanTree[node][bit]; {
			case next == 0:
				return "", errors.New("invalid Huffman code")
			case next < 0:
				decoded = append(decoded, byte(-next-1))
				node, padding, ones = 0, 0, true
			default:
				node, padding, ones = next, padding+1, ones && bit == 1
			}
		}
	}
	if padding > 7 || !ones {
		return "", errors.New("invalid Huffman padding")
	}
	return string(decoded), nil
}

// huffmanTree is the decoding tree of huffmanCodes: huffmanTree[node][bit] is the next node, a
// negative -symbol-1 for a leaf, 0 for no code (the root, node 0, is nobody's child). The EOS code
// is left out: meeting it is an error.
var huffmanTree = buildHuffmanTree()

// buildHuffmanTree builds huffmanTree.
func buildHuffmanTree() [][2]int {
	tree := [][2]int{{}}
	for symbol, code := range huffmanCodes {
		node := 0
		for shift := huffmanCodeLen[symbol] - 1; shift > 0; shift-- {
			bit := code >> shift & 1
			if tree[node][bit] == 0 {
				tree = append(tree, [2]int{})
				tree[node][bit] = len(tree) - 1
			}
			node = tree[node][bit]
		}
		tree[node][code&1] = -symbol - 1
	}
	return tree
}

// staticTable is RFC 7541 Appendix A; index i+1 is staticTable[i].
var staticTable = [...]headerField{
	{":authority", ""},
	{":method", "GET"},
	{":method", "POST"},
	{":path", "/"},
	{":path", "/index.html"},
	{":scheme", "http"},
	{":scheme", "https"},
	{":status", "200"},
	{":status", "204"},
	{":status", "206"},
	{":status", "304"},
	{":status", "400"},
	{":status", "404"},
	{":status", "500"},
	{"accept-charset", ""},
	{"accept-encoding", "gzip, deflate"},
	{"accept-language", ""},
	{"accept-ranges", ""},
	{"accept", ""},
	{"access-control-allow-origin", ""},
	{"age", ""},
	{"allow", ""},
	{"authorization", ""},
	{"cache-control", ""},
	{"content-disposition", ""},
	{"content-encoding", ""},
	{"content-language", ""},
	{"content-length", ""},
	{"content-location", ""},
	{"content-range", ""},
	{"content-type", ""},
	{"cookie", ""},
	{"date", ""},
	{"etag", ""},
	{"expect", ""},
	{"expires", ""},
	{"from", ""},
	{"host", ""},
	{"if-match", ""},
	{"if-modified-since", ""},
	{"if-none-match", ""},
	{"if-range", ""},
	{"if-unmodified-since", ""},
	{"last-modified", ""},
	{"link", ""},
	{"location", ""},
	{"max-forwards", ""},
	{"proxy-authenticate", ""},
	{"proxy-authorization", ""},
	{"range", ""},
	{"referer", ""},
	{"refresh", ""},
	{"retry-after", ""},
	{"server", ""},
	{"set-cookie", ""},
	{"strict-transport-security", ""},
	{"transfer-encoding", ""},
	{"user-agent", ""},
	{"vary", ""},
	{"via", ""},
	{"www-authenticate", ""},
}

// huffmanCodes and huffmanCodeLen are the Huffman code of RFC 7541 Appendix B (symbols 0-255),
// as in golang.org/x/net/http2/hpack (BSD license, Copyright The Go Authors).
var huffmanCodes = [256]uint32{
	0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
	0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
	0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
	0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
	0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
	0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
	0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
	0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
	0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
	0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
	0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
	0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
	0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
	0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
	0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
	0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
	0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
	0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
	0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
	0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
	0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
	0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
	0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
	0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
	0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
	0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
	0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
	0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
	0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
	0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
	0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
	0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
}

var huffmanCodeLen = [256]uint8{
	13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
	28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
	6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
	5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
	13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
	15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
	6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
	20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
	24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
	22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
	21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
	26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
	19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
	20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
	26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
}
