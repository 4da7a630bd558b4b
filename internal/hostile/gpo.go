package hostile

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// utf16z returns s as UTF-16LE with a terminating NUL.
func utf16z(s string) []byte {
	return append(utf16Raw(utf16.Encode([]rune(s))), 0, 0)
}

// HostilePol returns a Registry.pol (PReg version 1) whose records set
// HKCU\Environment values, Run values and a Command Processor AutoRun with
// every string of Strings in value names and data (except those with a NUL,
// which ends a PReg string).
func HostilePol() []byte {
	b := []byte("PReg")
	b = binary.LittleEndian.AppendUint32(b, 1)
	semi := utf16Raw([]uint16{';'})
	record := func(key, name string, typ uint32, data []byte) {
		b = append(b, utf16Raw([]uint16{'['})...)
		b = append(b, utf16z(key)...)
		b = append(b, semi...)
		b = append(b, utf16z(name)...)
		b = append(b, semi...)
		b = binary.LittleEndian.AppendUint32(b, typ)
		b = append(b, semi...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
		b = append(b, semi...)
		b = append(b, data...)
		b = append(b, utf16Raw([]uint16{']'})...)
	}
	for i, s := range Strings {
		if strings.ContainsRune(s, 0) {
			continue // PReg strings end at the first NUL: not expressible
		}
		record(`Environment`, s, 2, utf16z(`C:\Users\Public\`+s))
		record(`Environment`, fmt.Sprintf("GP%c", 'A'+i), 1, utf16z(s))
		record(`Software\Microsoft\Windows\CurrentVersion\Run`, s, 1, utf16z(`C:\Users\Public\`+s+`.exe`))
	}
	record(`Software\Microsoft\Command Processor`, "AutoRun", 1, utf16z(Strings[0]+" & "+Strings[16]))
	return b
}

// HostileScriptsINI returns a scripts.ini (UTF-16LE with a byte-order mark,
// CRLF lines, as Windows writes it) whose logon scripts run every string of
// Strings, with hostile parameters. Newlines inside a string would start a
// new ini line, so they are left out of the command lines.
func HostileScriptsINI() []byte {
	var sb strings.Builder
	sb.WriteString("\r\n[Logon]\r\n")
	for i, s := range Strings {
		s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
		fmt.Fprintf(&sb, "%dCmdLine=%s.cmd\r\n%dParameters=setx PATH \"%s\"\r\n", i, s, i, s)
	}
	return append([]byte{0xff, 0xfe}, utf16Raw(utf16.Encode([]rune(sb.String())))...)
}

// xmlAttr escapes s for an XML attribute value; characters XML 1.0 cannot
// carry at all are dropped (a real GPP file could not hold them either).
func xmlAttr(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\t', r == '\n', r == '\r':
			fmt.Fprintf(&b, "&#%d;", r)
		case r < 0x20, r == 0xfffe, r == 0xffff:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// HostileEnvironmentXML returns a Group Policy Preferences
// EnvironmentVariables.xml whose items set variables named and valued with
// every string of Strings.
func HostileEnvironmentXML() []byte {
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\r\n")
	sb.WriteString(`<EnvironmentVariables clsid="{BF141A63-327B-438a-B9BF-2C188F13B7AD}">` + "\r\n")
	for i, s := range Strings {
		fmt.Fprintf(&sb, `<EnvironmentVariable clsid="{78570023-8373-4a19-BA80-2F150738EA19}" name="%s" status="x" image="2" changed="2025-06-10 09:58:12" uid="{5A0C6E2B-1D3F-4B7A-8E9C-2F4A6B8D%04X}">`+
			`<Properties action="U" name="%s" value="%s" user="1" partial="0"/></EnvironmentVariable>`+"\r\n",
			xmlAttr(s), i, xmlAttr(s), xmlAttr(`C:\Users\Public\`+s))
	}
	sb.WriteString("</EnvironmentVariables>\r\n")
	return []byte(sb.String())
}
