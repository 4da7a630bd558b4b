package gpo

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// envXML is an EnvironmentVariables.xml as the Group Policy Management
// Editor writes it ([MS-GPPREF] 2.2.1.4), with one item inside a
// collection and one disabled item.
const envXML = `<?xml version="1.0" encoding="utf-8"?>
<EnvironmentVariables clsid="{BF141A63-327B-438a-B9BF-2C188F13B7AD}">
	<EnvironmentVariable clsid="{78570023-8373-4a19-BA80-2F150738EA19}" name="GOPATH" status="GOPATH = C:\Users\Public\go" image="2" changed="2025-06-10 07:58:12" uid="{3F1E2D4C-5B6A-4789-8A9B-0C1D2E3F4A5B}">
		<Properties action="U" name="GOPATH" value="C:\Users\Public\go" user="1" partial="0"/>
		<Filters/>
	</EnvironmentVariable>
	<Collection clsid="{53B533F5-224C-47e3-B01B-CA3B3F3FF4BF}" name="Paths">
		<EnvironmentVariable clsid="{78570023-8373-4a19-BA80-2F150738EA19}" name="Path" image="2" changed="2025-06-10 07:58:12" uid="{00000000-0000-0000-0000-000000000001}" disabled="1">
			<Properties action="C" name="Path" value="C:\Users\Public\tools" user="0" partial="1"/>
		</EnvironmentVariable>
	</Collection>
	<EnvironmentVariable clsid="{78570023-8373-4a19-BA80-2F150738EA19}" name="GOROOT" uid="{00000000-0000-0000-0000-000000000002}">
		<Properties action="D" name="GOROOT" value="" user="1"/>
	</EnvironmentVariable>
</EnvironmentVariables>
`

func TestLoadEnvironment_Items(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"UTF-8", []byte(envXML)},
		{"UTF-16LE with BOM", utf16File(strings.Replace(envXML, "utf-8", "utf-16", 1))},
	} {
		t.Run(c.name, func(t *testing.T) {
			items, err := LoadEnvironment("EnvironmentVariables.xml", c.data)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range items {
				got = append(got, fmt.Sprintf("%s %s=%q user=%v partial=%v disabled=%v coll=%q uid=%s", it.Action.Name(), it.VarName, it.Value, it.User, it.Partial, it.Disabled, it.Collection, it.UID))
			}
			want := []string{
				`update GOPATH="C:\\Users\\Public\\go" user=true partial=false disabled=false coll="" uid={3F1E2D4C-5B6A-4789-8A9B-0C1D2E3F4A5B}`,
				`create Path="C:\\Users\\Public\\tools" user=false partial=true disabled=true coll="Paths" uid={00000000-0000-0000-0000-000000000001}`,
				`delete GOROOT="" user=true partial=false disabled=false coll="" uid={00000000-0000-0000-0000-000000000002}`,
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if items[0].Line != 3 || items[0].Changed != "2025-06-10 07:58:12" {
				t.Errorf("first item line %d changed %q", items[0].Line, items[0].Changed)
			}
		})
	}
}

const regXML = `<?xml version="1.0" encoding="utf-8"?>
<RegistrySettings clsid="{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}">
	<Registry clsid="{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}" name="Path" status="Path" image="7" changed="2025-06-10 07:58:12" uid="{11111111-2222-3333-4444-555555555555}">
		<Properties action="U" displayDecimal="0" default="0" hive="HKEY_CURRENT_USER" key="Environment" name="Path" type="REG_EXPAND_SZ" value="C:\Users\Public\tools;%PATH%"/>
	</Registry>
	<Collection clsid="{53B533F5-224C-47e3-B01B-CA3B3F3FF4BF}" name="Outer">
		<Collection clsid="{53B533F5-224C-47e3-B01B-CA3B3F3FF4BF}" name="Inner">
			<Registry clsid="{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}" name="GOROOT" uid="{2}">
				<Properties action="D" hive="HKEY_LOCAL_MACHINE" key="SYSTEM\CurrentControlSet\Control\Session Manager\Environment" name="GOROOT" type="REG_SZ" value=""/>
			</Registry>
		</Collection>
	</Collection>
</RegistrySettings>
`

func TestLoadRegistryXML_ItemsInNestedCollections(t *testing.T) {
	items, err := LoadRegistryXML("Registry.xml", []byte(regXML))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, fmt.Sprintf("%s %s\\%s\\%s %s=%q coll=%q", it.Action.Name(), it.Hive, it.Key, it.ValueName, it.Type, it.Value, it.Collection))
	}
	want := []string{
		`update HKEY_CURRENT_USER\Environment\Path REG_EXPAND_SZ="C:\\Users\\Public\\tools;%PATH%" coll=""`,
		`delete HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Session Manager\Environment\GOROOT REG_SZ="" coll="Outer\\Inner"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadGPP_MalformedFilesNameTheLine(t *testing.T) {
	cases := []struct {
		name, text string
		reg        bool
		line       int
		msg        string
	}{
		{"wrong root", `<RegistrySettings/>`, false, 1, "want <EnvironmentVariables>"},
		{"bad action", "<EnvironmentVariables>\n<EnvironmentVariable name=\"x\"><Properties action=\"X\" name=\"x\"/></EnvironmentVariable></EnvironmentVariables>", false, 2, `action "X"`},
		{"no properties", "<EnvironmentVariables>\n<EnvironmentVariable name=\"x\"></EnvironmentVariable></EnvironmentVariables>", false, 2, "no Properties"},
		{"bad user flag", "<EnvironmentVariables>\n\n<EnvironmentVariable name=\"x\"><Properties action=\"U\" name=\"x\" user=\"yes\"/></EnvironmentVariable></EnvironmentVariables>", false, 3, `user="yes"`},
		{"unclosed element", "<EnvironmentVariables>\n<EnvironmentVariable>\n", false, 3, "XML"},
		{"registry without key", "<RegistrySettings><Registry name=\"r\"><Properties action=\"U\" hive=\"HKEY_CURRENT_USER\"/></Registry></RegistrySettings>", true, 1, "without hive or key"},
		{"undefined entity", "<RegistrySettings>&foo;</RegistrySettings>", true, 1, "XML"},
		{"empty", "", false, 1, "no <EnvironmentVariables>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.reg {
				_, err = LoadRegistryXML("Registry.xml", []byte(c.text))
			} else {
				_, err = LoadEnvironment("EnvironmentVariables.xml", []byte(c.text))
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("want a FormatError, got %v", err)
			}
			if fe.Line != c.line || !strings.Contains(fe.Msg, c.msg) {
				t.Errorf("got line %d %q, want line %d %q", fe.Line, fe.Msg, c.line, c.msg)
			}
		})
	}
}

func TestLoadGPP_DeepNestingIsRefused(t *testing.T) {
	text := "<RegistrySettings>" + strings.Repeat("<Collection>", MaxXMLDepth+1) + strings.Repeat("</Collection>", MaxXMLDepth+1) + "</RegistrySettings>"
	if _, err := LoadRegistryXML("Registry.xml", []byte(text)); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("got %v", err)
	}
}

func TestLoadEnvironment_ItemsBeforeDamageAreReturnedWithTheError(t *testing.T) {
	text := "<EnvironmentVariables>\n<EnvironmentVariable name=\"a\"><Properties action=\"U\" name=\"GOPATH\" value=\"x\"/></EnvironmentVariable>\n<EnvironmentVariable name=\"b\"><Properties action=\"Q\" name=\"b\"/></EnvironmentVariable></EnvironmentVariables>"
	items, err := LoadEnvironment("EnvironmentVariables.xml", []byte(text))
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Line != 3 {
		t.Fatalf("want a FormatError on line 3, got %v", err)
	}
	if len(items) != 1 || items[0].VarName != "GOPATH" {
		t.Fatalf("items before the damage: %+v", items)
	}
}
