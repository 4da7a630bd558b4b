package hive

// Type is the kind of hive, recognised from its content (never from the file
// name, which triage tools change).
type Type int

// Hive types.
const (
	TypeUnknown Type = iota
	TypeNTUSER
	TypeSYSTEM
	TypeSOFTWARE
	TypeSAM
	TypeSECURITY
	TypeUsrClass
	TypeAmcache
	TypeBCD
)

var hiveTypeNames = [...]string{"unknown", "NTUSER", "SYSTEM", "SOFTWARE", "SAM", "SECURITY", "UsrClass", "Amcache", "BCD"}

// String is the type's usual name: "NTUSER", "SYSTEM", ..., "unknown".
func (t Type) String() string {
	if t >= 0 && int(t) < len(hiveTypeNames) {
		return hiveTypeNames[t]
	}
	return "unknown"
}

// Type recognises the hive from the keys under its root: SYSTEM has Select
// and ControlSet00N; SOFTWARE has Microsoft\Windows NT\CurrentVersion; NTUSER
// has Software with Environment, AppEvents or Console; UsrClass has Local
// Settings or CLSID at the root; SAM has SAM\Domains; SECURITY has Policy;
// Amcache has Root\InventoryApplicationFile or Root\File; BCD has Objects and
// Description. The NTUSER shape also covers DEFAULT and NTUSER.MAN.
func (h *Hive) Type() Type {
	h.typeOnce.Do(func() { h.typ = h.detectType() })
	return h.typ
}

func (h *Hive) detectType() Type {
	root, err := h.Root()
	if err != nil {
		return TypeUnknown
	}
	has := func(path string) bool {
		k := root
		for _, part := range splitPath(path) {
			var err error
			if k, err = k.Subkey(part); err != nil {
				return false
			}
		}
		return true
	}
	if has("Select") {
		for _, off := range root.subkeyOffsets(nil, nil) {
			if c, err := h.keyAt(off, root); err == nil && len(c.name) == 13 && equalName(c.name[:10], "ControlSet") {
				return TypeSYSTEM
			}
		}
	}
	switch {
	case has(`SAM\Domains`):
		return TypeSAM
	case has("Policy") && (has(`Policy\PolAdtEv`) || has(`Policy\Secrets`) || has(`Policy\Accounts`) || has("RXACT") || has("Cache")):
		return TypeSECURITY
	case has("Objects") && has("Description"):
		return TypeBCD
	case has(`Root\InventoryApplicationFile`) || has(`Root\File`) || has(`Root\Programs`):
		return TypeAmcache
	case has("Software") && (has("Environment") || has("AppEvents") || has("Console") || has("Control Panel")):
		return TypeNTUSER
	case has("Local Settings") || has("CLSID") && !has("Microsoft"):
		return TypeUsrClass
	case has(`Microsoft\Windows NT\CurrentVersion`) || has(`Microsoft\Windows\CurrentVersion`) && has("Classes"):
		return TypeSOFTWARE
	case has("Policy"):
		return TypeSECURITY
	}
	return TypeUnknown
}

func splitPath(p string) []string {
	var parts []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '\\' {
			if i > start {
				parts = append(parts, p[start:i])
			}
			start = i + 1
		}
	}
	return parts
}
