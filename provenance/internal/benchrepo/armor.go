package benchrepo

import (
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

func armorEncode(w io.Writer, blockType string) (io.WriteCloser, error) {
	aw, err := armor.Encode(w, blockType, nil)
	if err != nil {
		return nil, fmt.Errorf("benchrepo: armor: %w", err)
	}
	return aw, nil
}
