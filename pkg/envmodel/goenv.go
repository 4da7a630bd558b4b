package envmodel

import (
	"bufio"
	"bytes"
	"strings"
)

// GoVariables are the Go settings envhunt reports with their origin.
var GoVariables = []string{"GOROOT", "GOPATH", "GOBIN", "GOPROXY", "GOFLAGS", "GOTOOLCHAIN", "GOENV", "GOSUMDB",
	"GONOSUMDB", "GONOPROXY", "GOINSECURE", "GOPRIVATE", "GOEXPERIMENT", "CC", "CXX", "CGO_ENABLED", "CGO_CFLAGS", "CGO_LDFLAGS"}

// GoSetting is one Go setting as the go command would resolve it for this
// user: an OS environment variable wins over the go env file (written by
// `go env -w`), so a stale HKCU\Environment\GOPATH silently beats what the
// user set with `go env -w`.
type GoSetting struct {
	Name string
	// Env is the effective environment's value ("" when unset) and
	// FileValue the go env file's.
	Env, FileValue string
	InEnv, InFile  bool
	// Winner is "environment", "go env file" or "" when neither sets it.
	Winner string
	// Overridden is true when both set it to different values: the file's
	// value is silently ignored.
	Overridden bool
	Origin     Origin
}

// ParseGoEnvFile parses %APPDATA%\go\env: NAME=VALUE lines as `go env -w`
// writes them; blank lines and lines starting with # are ignored. Values
// are kept as written. At most 4096 lines are read.
func ParseGoEnvFile(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 0; sc.Scan() && n < 4096; n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		out[strings.ToUpper(strings.TrimSpace(name))] = val
	}
	return out
}

func goSettings(file []byte, u *User) []GoSetting {
	fv := ParseGoEnvFile(file)
	var out []GoSetting
	for _, name := range GoVariables {
		s := GoSetting{Name: name}
		if v := u.Get(name); v != nil {
			s.Env, s.InEnv, s.Origin = v.Expanded, true, v.Origin
		}
		s.FileValue, s.InFile = fv[name]
		switch {
		case s.InEnv:
			s.Winner = "environment"
			s.Overridden = s.InFile && !strings.EqualFold(s.FileValue, s.Env)
		case s.InFile:
			s.Winner = "go env file"
		default:
			continue
		}
		out = append(out, s)
	}
	return out
}
