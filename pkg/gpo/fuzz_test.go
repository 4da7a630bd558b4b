package gpo

import (
	"errors"
	"testing"
)

// Each fuzz target checks that a reader never panics and that every error
// is a *FormatError naming the file.

func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var fe *FormatError
	if !errors.As(err, &fe) || fe.File != "f" {
		t.Fatalf("error is not a FormatError naming the file: %v", err)
	}
}

func FuzzLoadPol(f *testing.F) {
	f.Add(newPolBytes().record(`Environment`, `GOPATH`, 2, wdata(`C:\go`)).b)
	f.Add(newPolBytes().record(`Environment`, `**DeleteValues`, 1, wdata(`A;B`)).record(`K`, ``, 0, nil).b)
	f.Add(newPolBytes().b)
	f.Add([]byte("PReg\x01\x00\x00\x00[\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := LoadPol("f", data)
		checkErr(t, err)
		if err == nil {
			for i := range p.Records {
				r := &p.Records[i]
				_ = r.Targets()
				if int(r.Size) != len(r.Data) {
					t.Fatalf("record %d: size %d, data %d", i, r.Size, len(r.Data))
				}
			}
		}
	})
}

func FuzzLoadScripts(f *testing.F) {
	f.Add(utf16File("[Logon]\n0CmdLine=a.cmd\n0Parameters=b\n"))
	f.Add([]byte("[Startup]\n0Parameters=x\n0CmdLine=y\n[ScriptsConfig]\nA=1\n"))
	f.Add([]byte{0xFE, 0xFF, 0, '[', 0, 'L'})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := LoadScripts("f", data, len(data)%2 == 0)
		checkErr(t, err)
		if err == nil && len(s.Scripts) > MaxScripts {
			t.Fatalf("%d scripts", len(s.Scripts))
		}
	})
}

func FuzzLoadEnvironment(f *testing.F) {
	f.Add([]byte(envXML))
	f.Add(utf16File(envXML))
	f.Add([]byte("<EnvironmentVariables><Collection><EnvironmentVariable><Properties action='D' name='x'/></EnvironmentVariable></Collection></EnvironmentVariables>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := LoadEnvironment("f", data)
		checkErr(t, err)
	})
}

func FuzzLoadRegistryXML(f *testing.F) {
	f.Add([]byte(regXML))
	f.Add([]byte("<RegistrySettings><Registry><Registry><Properties hive='h' key='k'/></Registry></Registry></RegistrySettings>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := LoadRegistryXML("f", data)
		checkErr(t, err)
	})
}
