package evidence

import "strings"

// Group Policy files live in the local policy (Windows\System32\GroupPolicy\
// {Machine,User}), the per-user local policies (Windows\System32\
// GroupPolicyUsers\<SID>\User), the local cache of domain policies
// (Windows\System32\GroupPolicy\DataStore\0\SysVol\<domain>\Policies\
// {GUID}\...), SYSVOL (Policies\{GUID}\{Machine,User}), and the history
// caches (ProgramData\Microsoft\Group Policy\History\{GUID}\
// {Machine,<SID>} and Users\<u>\AppData\Local\Microsoft\Group Policy\
// History\{GUID}\User). gpoPlace reads the scope and the policy from those
// paths.

// gpoPlace returns the scope ("Machine" or "User"), the policy GUID and the
// user SID a Group Policy file's path names (lower-case parts).
func gpoPlace(rel []string) (scope, guid, sid string) {
	for _, p := range rel {
		if isGUIDName(p) {
			guid = strings.ToUpper(p)
			scope, sid = "", "" // what matters is below the policy folder
			continue
		}
		switch {
		case p == "machine":
			if scope == "" {
				scope = "Machine"
			}
		case p == "user":
			if scope == "" {
				scope = "User"
			}
		case strings.HasPrefix(p, "s-1-") && (guid != "" || containsPart(rel, "grouppolicyusers")):
			scope, sid = "User", strings.ToUpper(p)
		}
	}
	return scope, guid, sid
}

// isGUIDName reports whether s is a braced GUID ({8-4-4-4-12} hex digits).
func isGUIDName(s string) bool {
	if len(s) != 38 || s[0] != '{' || s[37] != '}' {
		return false
	}
	for i := 1; i < 37; i++ {
		c := s[i]
		switch i {
		case 9, 14, 19, 24:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isScriptBody reports whether a file lies in a Scripts\<Phase> folder of
// a Group Policy tree: the scripts scripts.ini names by relative path.
func isScriptBody(rel []string) bool {
	n := len(rel)
	inPolicy := false
	for i := 0; i+2 < n; i++ {
		switch rel[i] {
		case "grouppolicy", "policies", "group policy", "grouppolicyusers":
			inPolicy = true
		case "scripts":
			switch rel[i+1] {
			case "logon", "logoff", "startup", "shutdown":
				return inPolicy
			}
		}
	}
	return false
}
