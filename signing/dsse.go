package signing

import (
	"bytes"
	"crypto"
	"fmt"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
)

// InTotoPayloadType is the DSSE payload type of an in-toto statement, such
// as SLSA provenance.
const InTotoPayloadType = "application/vnd.in-toto+json"

// SignDSSE wraps payload in a DSSE envelope signed over its pre-authentication
// encoding, "DSSEv1 <len(type)> <type> <len(body)> <body>":
//
//	{"payloadType":"...","payload":"<b64>","signatures":[{"keyid":"","sig":"<b64>"}]}
//
// keyid is left empty, as cosign leaves it; verifiers pin the key instead.
func SignDSSE(signer signature.Signer, payloadType string, payload []byte) ([]byte, error) {
	env, err := dsse.WrapSigner(signer, payloadType).SignMessage(bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("DSSE sign: %w", err)
	}
	return env, nil
}

// VerifyDSSE checks a DSSE envelope against a pinned public key and returns
// its decoded payload. The payload type is covered by the signature, so a
// caller that needs a particular type can trust the envelope's.
func VerifyDSSE(pub crypto.PublicKey, envelope []byte) ([]byte, error) {
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("DSSE verify: %w", err)
	}
	var payload []byte
	err = dsse.WrapVerifier(v, dsse.WithDecodedPayload(&payload)).VerifySignature(bytes.NewReader(envelope), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: DSSE: %v", ErrBadSignature, err)
	}
	return payload, nil
}
