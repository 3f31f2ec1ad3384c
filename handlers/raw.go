package handlers

import (
	"context"
	"encoding/json"

	"github.com/gin-gonic/gin"
)

// Raw is a non-JSON response (a CSV export, a manifest file), written
// after the request's transaction committed.
type Raw struct {
	ContentType string
	Data        []byte
	Headers     map[string]string
}

// TxRaw is Tx for handlers answering with a file rather than JSON; errors
// still take the JSON error shape.
func TxRaw(store Txer, fn func(c *gin.Context, ctx context.Context) (Raw, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		res, ok := runTx(c, store, fn)
		if !ok {
			return
		}
		for k, v := range res.Headers {
			c.Header(k, v)
		}
		c.Header("Cache-Control", "no-store")
		c.Data(200, res.ContentType, res.Data)
	}
}

func jsonUnmarshal(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}
