package jsonmap

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// unquote decodes the inside of a string literal that scanString has
// validated and that has escapes or bytes outside ASCII. It follows
// encoding/json's unquote step for step, because what it makes of broken
// input (invalid UTF-8, lone surrogates) is part of the result: each
// invalid byte becomes U+FFFD, a surrogate escape not followed by its
// partner becomes U+FFFD and the escape after it is read on its own.
func unquote(s []byte) string {
	b := make([]byte, 0, len(s)+utf8.UTFMax)
	for r := 0; r < len(s); {
		switch c := s[r]; {
		case c == '\\':
			r++
			switch s[r] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				var rr rune
				rr, r = unicodeEscape(s, r-1)
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, s[r])
			}
			r++
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			// Invalid UTF-8 decodes as (RuneError, 1): one U+FFFD per
			// byte.
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return string(b)
}

// unicodeEscape decodes the \uXXXX escape at s[r:], with the low
// surrogate escape after it when it is a valid high surrogate, and returns
// the rune and the offset after what it consumed.
func unicodeEscape(s []byte, r int) (rune, int) {
	rr := getu4(s[r:])
	r += 6
	if utf16.IsSurrogate(rr) {
		if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
			return dec, r + 6
		}
		return unicode.ReplacementChar, r
	}
	return rr, r
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	return hexValue(s[2:6])
}

// hexValue decodes four hex digits, or returns -1.
func hexValue(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
