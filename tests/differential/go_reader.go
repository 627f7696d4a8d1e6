// Reads base64 frames, one a line, on stdin; writes one JSON line per frame on stdout: what Go's
// encoding/json makes of the method, params.name and params.arguments, two ways:
//   - "struct": into structs shaped like mcp-go's (fields matched case-insensitively by Go),
//   - "generic": into map[string]any (keys matched exactly), with the whole frame as "body".
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
)

type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      any             `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

type callParams struct {
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
}

type view struct {
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	Method    any    `json:"method,omitempty"`
	Name      any    `json:"name,omitempty"`
	Arguments any    `json:"arguments,omitempty"`
	Body      any    `json:"body,omitempty"`
}

func structView(frame []byte) view {
	var req request
	if err := json.Unmarshal(frame, &req); err != nil {
		return view{Error: err.Error()}
	}
	var params callParams
	if len(req.Params) > 0 {
		if err := json.Unmarshal(req.Params, &params); err != nil {
			return view{Error: err.Error()}
		}
	}
	return view{OK: true, Method: req.Method, Name: params.Name, Arguments: params.Arguments}
}

func genericView(frame []byte) view {
	var value any
	if err := json.Unmarshal(frame, &value); err != nil {
		return view{Error: err.Error()}
	}
	v := view{OK: true, Body: value}
	body, isObject := value.(map[string]any)
	if !isObject {
		return v
	}
	v.Method = body["method"]
	if params, ok := body["params"].(map[string]any); ok {
		v.Name = params["name"]
		v.Arguments = params["arguments"]
	}
	return v
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		frame, err := base64.StdEncoding.DecodeString(in.Text())
		if err != nil {
			os.Exit(2)
		}
		_ = enc.Encode(map[string]view{"struct": structView(frame), "generic": genericView(frame)})
	}
	if in.Err() != nil {
		os.Exit(2)
	}
}
