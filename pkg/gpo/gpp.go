package gpo

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// GPPAction is a preference item's action attribute.
type GPPAction string

// Preference item actions ([MS-GPPREF]).
const (
	GPPCreate  GPPAction = "C"
	GPPReplace GPPAction = "R"
	GPPUpdate  GPPAction = "U"
	GPPDelete  GPPAction = "D"
)

// Name returns the action's word: "create", "replace", "update", "delete".
func (a GPPAction) Name() string {
	switch a {
	case GPPCreate:
		return "create"
	case GPPReplace:
		return "replace"
	case GPPUpdate:
		return "update"
	case GPPDelete:
		return "delete"
	}
	return string(a)
}

// GPPItem holds what every preference item carries besides its Properties.
type GPPItem struct {
	// Name and Status are the item's display name and status text.
	Name, Status string
	// Changed is the item's "changed" attribute as written by the editor
	// (local time of the administrator's machine, "2006-01-02 15:04:05").
	Changed string
	// UID is the item's GUID.
	UID string
	// Disabled is true when the item is switched off (disabled="1").
	Disabled bool
	// Collection is the path of the Collection folders holding the item,
	// joined with "\" ("" at top level).
	Collection string
	// Line is the 1-based line of the item's element.
	Line int
}

// EnvironmentVariable is one <EnvironmentVariable> preference item.
type EnvironmentVariable struct {
	GPPItem
	Action GPPAction
	// VarName and Value are the variable's name and value (Properties name
	// and value).
	VarName, Value string
	// User is true for a user variable (HKCU\Environment), false for a
	// system one (Session Manager\Environment): Properties user="1".
	User bool
	// Partial is true when the value is added to (Path-like) or removed
	// from the existing value instead of replacing it: partial="1".
	Partial bool
}

// RegistryItem is one <Registry> preference item.
type RegistryItem struct {
	GPPItem
	Action GPPAction
	// Hive is the root as written (HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE,
	// ...); Key the path below it; ValueName the value ("" with Default for
	// the default value).
	Hive, Key, ValueName string
	// Default is true when the item sets the key's default value.
	Default bool
	// Type is the value type name (REG_SZ, REG_EXPAND_SZ, REG_DWORD, ...),
	// Value its data as text.
	Type, Value string
}

// OpenEnvironment reads and parses a GPP EnvironmentVariables.xml file.
func OpenEnvironment(path string) ([]EnvironmentVariable, error) {
	data, err := readFile(path, MaxFileSize)
	if err != nil {
		return nil, err
	}
	return LoadEnvironment(path, data)
}

// LoadEnvironment parses a GPP EnvironmentVariables.xml file: the
// <EnvironmentVariable> items under <EnvironmentVariables>, inside any
// <Collection> folders. Each item must carry one <Properties> element with
// an action of C, R, U or D and a name. On an error, the items read before
// it are returned with the *FormatError.
func LoadEnvironment(name string, data []byte) ([]EnvironmentVariable, error) {
	var out []EnvironmentVariable
	err := walkGPP(name, data, "EnvironmentVariables", "EnvironmentVariable", func(it GPPItem, props map[string]string, line int) error {
		ev := EnvironmentVariable{GPPItem: it, VarName: props["name"], Value: props["value"]}
		var err error
		if ev.Action, err = gppAction(props["action"]); err != nil {
			return lineErr(name, line, "EnvironmentVariable %q: %v", it.Name, err)
		}
		if ev.VarName == "" {
			return lineErr(name, line, "EnvironmentVariable %q: Properties without a name", it.Name)
		}
		if ev.User, err = gppBool(props, "user"); err != nil {
			return lineErr(name, line, "EnvironmentVariable %q: %v", it.Name, err)
		}
		if ev.Partial, err = gppBool(props, "partial"); err != nil {
			return lineErr(name, line, "EnvironmentVariable %q: %v", it.Name, err)
		}
		out = append(out, ev)
		return nil
	})
	return out, err
}

// OpenRegistryXML reads and parses a GPP Registry.xml file.
func OpenRegistryXML(path string) ([]RegistryItem, error) {
	data, err := readFile(path, MaxFileSize)
	if err != nil {
		return nil, err
	}
	return LoadRegistryXML(path, data)
}

// LoadRegistryXML parses a GPP Registry.xml file: the <Registry> items
// under <RegistrySettings>, inside any <Collection> folders. Each item must
// carry one <Properties> element with an action of C, R, U or D, a hive
// and a key. On an error, the items read before it are returned with the
// *FormatError.
func LoadRegistryXML(name string, data []byte) ([]RegistryItem, error) {
	var out []RegistryItem
	err := walkGPP(name, data, "RegistrySettings", "Registry", func(it GPPItem, props map[string]string, line int) error {
		ri := RegistryItem{GPPItem: it, Hive: props["hive"], Key: props["key"], ValueName: props["name"], Type: props["type"], Value: props["value"]}
		var err error
		if ri.Action, err = gppAction(props["action"]); err != nil {
			return lineErr(name, line, "Registry item %q: %v", it.Name, err)
		}
		if ri.Default, err = gppBool(props, "default"); err != nil {
			return lineErr(name, line, "Registry item %q: %v", it.Name, err)
		}
		if ri.Hive == "" || ri.Key == "" {
			return lineErr(name, line, "Registry item %q: Properties without hive or key", it.Name)
		}
		out = append(out, ri)
		return nil
	})
	return out, err
}

func gppAction(s string) (GPPAction, error) {
	switch a := GPPAction(strings.ToUpper(strings.TrimSpace(s))); a {
	case GPPCreate, GPPReplace, GPPUpdate, GPPDelete:
		return a, nil
	case "":
		// The editor omits action for items saved by old versions: Update
		// is the documented default.
		return GPPUpdate, nil
	}
	return "", fmt.Errorf("action %q, want C, R, U or D", s)
}

func gppBool(props map[string]string, name string) (bool, error) {
	switch props[name] {
	case "", "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("%s=%q, want 0 or 1", name, props[name])
}

// walkGPP streams the XML of a preference file: root is the document
// element's name, item the element of one preference item; each item's
// attributes and its Properties' attributes are given to fn.
func walkGPP(name string, data []byte, root, item string, fn func(GPPItem, map[string]string, int) error) error {
	if len(data) > MaxFileSize {
		return offErr(name, MaxFileSize, "file larger than %d bytes", MaxFileSize)
	}
	text, _ := decodeText(data)
	d := xml.NewDecoder(strings.NewReader(text))
	d.Strict = true
	// The text is already UTF-8: whatever the declaration says (utf-16,
	// unicode, windows-1252) the bytes the decoder sees are UTF-8.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	// lineOf counts lines incrementally from the last position asked, so
	// the whole walk stays linear in the file size.
	lastOff, lastLine := 0, 1
	lineOf := func() int {
		off := int(min(d.InputOffset(), int64(len(text))))
		if off > lastOff {
			lastLine += strings.Count(text[lastOff:off], "\n")
			lastOff = off
		}
		return lastLine
	}
	var stack []string       // element names
	var collections []string // names of enclosing Collection elements
	var cur *GPPItem
	var curProps map[string]string
	var curLine, items int
	sawRoot := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return lineErr(name, se.Line, "XML: %s", se.Msg)
			}
			return lineErr(name, lineOf(), "XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= MaxXMLDepth {
				return lineErr(name, lineOf(), "elements nested more than %d deep", MaxXMLDepth)
			}
			el := t.Name.Local
			attrs := map[string]string{}
			for _, a := range t.Attr {
				if len(a.Value) > MaxLineLength {
					return lineErr(name, lineOf(), "attribute %s longer than %d bytes", a.Name.Local, MaxLineLength)
				}
				attrs[a.Name.Local] = a.Value
			}
			switch {
			case len(stack) == 0:
				if el != root {
					return lineErr(name, lineOf(), "document element <%s>, want <%s>", el, root)
				}
				sawRoot = true
			case cur == nil && el == "Collection":
				collections = append(collections, attrs["name"])
			case cur == nil && el == item:
				if items++; items > MaxItems {
					return lineErr(name, lineOf(), "more than %d items", MaxItems)
				}
				cur = &GPPItem{Name: attrs["name"], Status: attrs["status"], Changed: attrs["changed"], UID: attrs["uid"],
					Disabled: attrs["disabled"] == "1", Collection: strings.Join(collections, `\`), Line: lineOf()}
				curLine = cur.Line
				curProps = nil
			case cur != nil && el == "Properties" && len(stack) > 0 && stack[len(stack)-1] == item:
				if curProps != nil {
					return lineErr(name, lineOf(), "%s %q has two Properties elements", item, cur.Name)
				}
				curProps = attrs
			}
			stack = append(stack, el)
		case xml.EndElement:
			el := t.Name.Local
			stack = stack[:len(stack)-1]
			switch {
			case cur != nil && el == item && (len(stack) == 0 || stack[len(stack)-1] != item):
				if curProps == nil {
					return lineErr(name, curLine, "%s %q has no Properties element", item, cur.Name)
				}
				if err := fn(*cur, curProps, curLine); err != nil {
					return err
				}
				cur = nil
			case cur == nil && el == "Collection" && len(collections) > 0:
				collections = collections[:len(collections)-1]
			}
		}
	}
	if !sawRoot {
		return lineErr(name, 1, "no <%s> document element", root)
	}
	return nil
}
