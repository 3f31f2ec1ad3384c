// Package identity owns who a request is: sales sign-in, the Microsoft
// connect flow, user mappings, sessions (access JWTs and rotating refresh
// tokens) and the encryption of secrets at rest.
package identity

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// Keys derives every key the server needs from the configured secret key,
// so one secret rotates everything. Earlier secrets stay usable for
// decryption (never for signing or encrypting).
type Keys struct {
	current keySet
	prev    []keySet
}

type keySet struct {
	id     [4]byte // identifies the secret inside ciphertexts and JWT kids
	jwt    []byte
	aead   cipher.AEAD
	hasher []byte
}

func derive(secret, purpose string, n int) []byte {
	out := make([]byte, n)
	r := hkdf.New(sha256.New, []byte(secret), []byte("salesbridge"), []byte(purpose))
	if _, err := io.ReadFull(r, out); err != nil {
		panic(err) // hkdf cannot fail for these lengths
	}
	return out
}

func newKeySet(secret string) (keySet, error) {
	var ks keySet
	if len(secret) < 32 {
		return ks, errors.New("secret key must be at least 32 characters")
	}
	idb := derive(secret, "key-id-v1", 4)
	copy(ks.id[:], idb)
	ks.jwt = derive(secret, "session-jwt-v1", 32)
	ks.hasher = derive(secret, "token-hash-v1", 32)
	block, err := aes.NewCipher(derive(secret, "at-rest-aes256gcm-v1", 32))
	if err != nil {
		return ks, err
	}
	ks.aead, err = cipher.NewGCM(block)
	return ks, err
}

// NewKeys derives keys from the current secret and any previous ones.
func NewKeys(secret string, previous ...string) (*Keys, error) {
	cur, err := newKeySet(secret)
	if err != nil {
		return nil, err
	}
	k := &Keys{current: cur}
	for _, p := range previous {
		ps, err := newKeySet(p)
		if err != nil {
			return nil, fmt.Errorf("previous secret key: %w", err)
		}
		k.prev = append(k.prev, ps)
	}
	return k, nil
}

// cipherVersion is the first byte of every ciphertext.
const cipherVersion = 1

// Seal encrypts plaintext with AES-256-GCM. aad binds the ciphertext to
// where it is stored (e.g. "token-cache:42"), so a ciphertext copied into
// another row does not decrypt. Layout: version | key id (4) | nonce | ct.
func (k *Keys) Seal(plaintext []byte, aad string) ([]byte, error) {
	ks := k.current
	nonce := make([]byte, ks.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := make([]byte, 0, 1+4+len(nonce)+len(plaintext)+ks.aead.Overhead())
	out = append(out, cipherVersion)
	out = append(out, ks.id[:]...)
	out = append(out, nonce...)
	return ks.aead.Seal(out, nonce, plaintext, []byte(aad)), nil
}

// ErrDecrypt means a ciphertext could not be opened with any known key.
var ErrDecrypt = errors.New("cannot decrypt stored secret (wrong or rotated-out secret key?)")

// Open decrypts what Seal produced, with the current or a previous key.
func (k *Keys) Open(ciphertext []byte, aad string) ([]byte, error) {
	if len(ciphertext) < 5 || ciphertext[0] != cipherVersion {
		return nil, ErrDecrypt
	}
	for _, ks := range append([]keySet{k.current}, k.prev...) {
		if !hmac.Equal(ks.id[:], ciphertext[1:5]) {
			continue
		}
		ns := ks.aead.NonceSize()
		if len(ciphertext) < 5+ns {
			return nil, ErrDecrypt
		}
		pt, err := ks.aead.Open(nil, ciphertext[5:5+ns], ciphertext[5+ns:], []byte(aad))
		if err != nil {
			return nil, ErrDecrypt
		}
		return pt, nil
	}
	return nil, ErrDecrypt
}

// NeedsRotation reports whether a ciphertext was made with a previous key.
func (k *Keys) NeedsRotation(ciphertext []byte) bool {
	return len(ciphertext) >= 5 && !hmac.Equal(k.current.id[:], ciphertext[1:5])
}

// HashToken is the keyed hash under which one-time codes and refresh
// tokens are stored: a database leak does not reveal usable tokens.
func (k *Keys) HashToken(token string) string {
	m := hmac.New(sha256.New, k.current.hasher)
	m.Write([]byte(token))
	return fmt.Sprintf("%x", m.Sum(nil))
}

// RandomToken returns a URL-safe random token of n bytes of entropy.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = alphabet[c&63]
	}
	return string(out)
}

func (k *Keys) kid() string { return fmt.Sprintf("%x", k.current.id) }
