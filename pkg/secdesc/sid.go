package secdesc

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// MaxSubAuthorities is the most sub-authorities a SID may carry
// (SID_MAX_SUB_AUTHORITIES).
const MaxSubAuthorities = 15

// SID is a security identifier. It is a comparable value, so it can be used
// as a map key; the zero SID is not valid (IsZero reports it).
type SID struct {
	revision  uint8
	count     uint8
	authority uint64 // 48-bit IdentifierAuthority
	sub       [MaxSubAuthorities]uint32
}

// NewSID returns the revision-1 SID with the given identifier authority and
// sub-authorities. Sub-authorities beyond MaxSubAuthorities are dropped.
func NewSID(authority uint64, sub ...uint32) SID {
	s := SID{revision: 1, authority: authority & 0xFFFFFFFFFFFF}
	if len(sub) > MaxSubAuthorities {
		sub = sub[:MaxSubAuthorities]
	}
	s.count = uint8(copy(s.sub[:], sub))
	return s
}

// ParseSID decodes a binary SID at the start of b and returns it with the
// number of bytes it occupies (8 + 4 per sub-authority).
func ParseSID(b []byte) (SID, int, error) {
	if len(b) < 8 {
		return SID{}, 0, &FormatError{Msg: fmt.Sprintf("SID header needs 8 bytes, have %d", len(b))}
	}
	var s SID
	s.revision = b[0]
	if s.revision != 1 {
		return SID{}, 0, &FormatError{Msg: fmt.Sprintf("SID revision %d, want 1", s.revision)}
	}
	n := int(b[1])
	if n > MaxSubAuthorities {
		return SID{}, 0, &FormatError{Offset: 1, Msg: fmt.Sprintf("SID has %d sub-authorities, at most %d allowed", n, MaxSubAuthorities)}
	}
	size := 8 + 4*n
	if len(b) < size {
		return SID{}, 0, &FormatError{Msg: fmt.Sprintf("SID with %d sub-authorities needs %d bytes, have %d", n, size, len(b))}
	}
	s.count = uint8(n)
	for _, c := range b[2:8] {
		s.authority = s.authority<<8 | uint64(c)
	}
	for i := 0; i < n; i++ {
		s.sub[i] = binary.LittleEndian.Uint32(b[8+4*i:])
	}
	return s, size, nil
}

// ParseSIDString parses the "S-1-5-21-..." form, and also the SDDL aliases
// of well-known SIDs ("BA", "SY", "WD", ...).
func ParseSIDString(str string) (SID, error) {
	if s, ok := aliasSIDs[strings.ToUpper(str)]; ok && len(str) == 2 {
		return s, nil
	}
	parts := strings.Split(str, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") || parts[1] != "1" {
		return SID{}, fmt.Errorf("secdesc: %q is not a SID string (want S-1-<authority>-...)", str)
	}
	var auth uint64
	var err error
	if a := parts[2]; strings.HasPrefix(a, "0x") || strings.HasPrefix(a, "0X") {
		auth, err = strconv.ParseUint(a[2:], 16, 48)
	} else {
		auth, err = strconv.ParseUint(a, 10, 32)
	}
	if err != nil {
		return SID{}, fmt.Errorf("secdesc: SID %q: bad identifier authority", str)
	}
	if len(parts)-3 > MaxSubAuthorities {
		return SID{}, fmt.Errorf("secdesc: SID %q has more than %d sub-authorities", str, MaxSubAuthorities)
	}
	sub := make([]uint32, 0, len(parts)-3)
	for _, p := range parts[3:] {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return SID{}, fmt.Errorf("secdesc: SID %q: bad sub-authority %q", str, p)
		}
		sub = append(sub, uint32(v))
	}
	return NewSID(auth, sub...), nil
}

// MustSID is ParseSIDString for constants in code; it panics on a bad
// string, which is a programming error.
func MustSID(str string) SID {
	s, err := ParseSIDString(str)
	if err != nil {
		panic(err)
	}
	return s
}

// IsZero reports whether s is the zero value (no SID).
func (s SID) IsZero() bool { return s.revision == 0 }

// Revision returns the SID revision (always 1 for parsed SIDs).
func (s SID) Revision() uint8 { return s.revision }

// Authority returns the 48-bit identifier authority (5 for NT AUTHORITY).
func (s SID) Authority() uint64 { return s.authority }

// SubAuthorities returns a copy of the sub-authorities.
func (s SID) SubAuthorities() []uint32 {
	return append([]uint32(nil), s.sub[:s.count]...)
}

// RID returns the last sub-authority (the relative identifier), or 0 when
// there is none.
func (s SID) RID() uint32 {
	if s.count == 0 {
		return 0
	}
	return s.sub[s.count-1]
}

// Size returns the binary size of the SID in bytes.
func (s SID) Size() int { return 8 + 4*int(s.count) }

// Bytes returns the binary form of the SID.
func (s SID) Bytes() []byte {
	b := make([]byte, s.Size())
	b[0] = s.revision
	b[1] = s.count
	for i := 0; i < 6; i++ {
		b[2+i] = byte(s.authority >> (8 * (5 - i)))
	}
	for i := 0; i < int(s.count); i++ {
		binary.LittleEndian.PutUint32(b[8+4*i:], s.sub[i])
	}
	return b
}

// String returns the SID in its "S-1-5-21-..." form, as
// ConvertSidToStringSid writes it: the authority in decimal when it fits in
// 32 bits, else as 0x followed by 12 hex digits.
func (s SID) String() string {
	if s.IsZero() {
		return ""
	}
	var b strings.Builder
	b.WriteString("S-")
	b.WriteString(strconv.Itoa(int(s.revision)))
	b.WriteByte('-')
	if s.authority >= 1<<32 {
		fmt.Fprintf(&b, "0x%012X", s.authority)
	} else {
		b.WriteString(strconv.FormatUint(s.authority, 10))
	}
	for _, v := range s.sub[:s.count] {
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	}
	return b.String()
}

// hasPrefix reports whether s starts with authority auth and the given
// sub-authorities.
func (s SID) hasPrefix(auth uint64, sub ...uint32) bool {
	if s.authority != auth || int(s.count) < len(sub) {
		return false
	}
	for i, v := range sub {
		if s.sub[i] != v {
			return false
		}
	}
	return true
}

// IsDomainAccount reports whether s is an account or group of a machine or
// domain (S-1-5-21-X-Y-Z-RID).
func (s SID) IsDomainAccount() bool {
	return s.count == 5 && s.hasPrefix(5, 21)
}

// IsCapability reports whether s is an app capability SID (S-1-15-3-...).
func (s SID) IsCapability() bool { return s.hasPrefix(15, 3) && s.count >= 2 }

// IsMandatoryLabel reports whether s is an integrity level (S-1-16-N).
func (s SID) IsMandatoryLabel() bool { return s.authority == 16 && s.count == 1 }

// Well-known SIDs that the ACL analysis refers to.
var (
	SIDEveryone                    = NewSID(1, 0)
	SIDLocal                       = NewSID(2, 0)
	SIDConsoleLogon                = NewSID(2, 1)
	SIDCreatorOwner                = NewSID(3, 0)
	SIDCreatorGroup                = NewSID(3, 1)
	SIDOwnerRights                 = NewSID(3, 4)
	SIDNetwork                     = NewSID(5, 2)
	SIDBatch                       = NewSID(5, 3)
	SIDInteractive                 = NewSID(5, 4)
	SIDService                     = NewSID(5, 6)
	SIDAnonymous                   = NewSID(5, 7)
	SIDAuthenticatedUsers          = NewSID(5, 11)
	SIDRestricted                  = NewSID(5, 12)
	SIDThisOrganization            = NewSID(5, 15)
	SIDSystem                      = NewSID(5, 18)
	SIDLocalService                = NewSID(5, 19)
	SIDNetworkService              = NewSID(5, 20)
	SIDAdministrators              = NewSID(5, 32, 544)
	SIDUsers                       = NewSID(5, 32, 545)
	SIDGuests                      = NewSID(5, 32, 546)
	SIDPowerUsers                  = NewSID(5, 32, 547)
	SIDRemoteDesktopUsers          = NewSID(5, 32, 555)
	SIDAllAppPackages              = NewSID(15, 2, 1)
	SIDAllRestrictedAppPackages    = NewSID(15, 2, 2)
	SIDUntrustedMandatoryLevel     = NewSID(16, 0)
	SIDLowMandatoryLevel           = NewSID(16, 0x1000)
	SIDMediumMandatoryLevel        = NewSID(16, 0x2000)
	SIDMediumPlusMandatoryLevel    = NewSID(16, 0x2100)
	SIDHighMandatoryLevel          = NewSID(16, 0x3000)
	SIDSystemMandatoryLevel        = NewSID(16, 0x4000)
	SIDProtectedProcessMandatoryLv = NewSID(16, 0x5000)
)

// wellKnown maps SIDs to the account names Windows' LookupAccountSid gives
// (English installation).
var wellKnown = map[SID]string{
	NewSID(0, 0):                   `NULL SID`,
	SIDEveryone:                    `Everyone`,
	SIDLocal:                       `LOCAL`,
	SIDConsoleLogon:                `CONSOLE LOGON`,
	SIDCreatorOwner:                `CREATOR OWNER`,
	SIDCreatorGroup:                `CREATOR GROUP`,
	NewSID(3, 2):                   `CREATOR OWNER SERVER`,
	NewSID(3, 3):                   `CREATOR GROUP SERVER`,
	SIDOwnerRights:                 `OWNER RIGHTS`,
	NewSID(5, 1):                   `NT AUTHORITY\DIALUP`,
	SIDNetwork:                     `NT AUTHORITY\NETWORK`,
	SIDBatch:                       `NT AUTHORITY\BATCH`,
	SIDInteractive:                 `NT AUTHORITY\INTERACTIVE`,
	SIDService:                     `NT AUTHORITY\SERVICE`,
	SIDAnonymous:                   `NT AUTHORITY\ANONYMOUS LOGON`,
	NewSID(5, 8):                   `NT AUTHORITY\PROXY`,
	NewSID(5, 9):                   `NT AUTHORITY\ENTERPRISE DOMAIN CONTROLLERS`,
	NewSID(5, 10):                  `NT AUTHORITY\SELF`,
	SIDAuthenticatedUsers:          `NT AUTHORITY\Authenticated Users`,
	SIDRestricted:                  `NT AUTHORITY\RESTRICTED`,
	NewSID(5, 13):                  `NT AUTHORITY\TERMINAL SERVER USER`,
	NewSID(5, 14):                  `NT AUTHORITY\REMOTE INTERACTIVE LOGON`,
	SIDThisOrganization:            `NT AUTHORITY\This Organization`,
	NewSID(5, 17):                  `NT AUTHORITY\IUSR`,
	SIDSystem:                      `NT AUTHORITY\SYSTEM`,
	SIDLocalService:                `NT AUTHORITY\LOCAL SERVICE`,
	SIDNetworkService:              `NT AUTHORITY\NETWORK SERVICE`,
	NewSID(5, 33):                  `NT AUTHORITY\WRITE RESTRICTED`,
	NewSID(5, 113):                 `NT AUTHORITY\Local account`,
	NewSID(5, 114):                 `NT AUTHORITY\Local account and member of Administrators group`,
	NewSID(5, 80, 0):               `NT SERVICE\ALL SERVICES`,
	SIDAdministrators:              `BUILTIN\Administrators`,
	SIDUsers:                       `BUILTIN\Users`,
	SIDGuests:                      `BUILTIN\Guests`,
	SIDPowerUsers:                  `BUILTIN\Power Users`,
	NewSID(5, 32, 548):             `BUILTIN\Account Operators`,
	NewSID(5, 32, 549):             `BUILTIN\Server Operators`,
	NewSID(5, 32, 550):             `BUILTIN\Print Operators`,
	NewSID(5, 32, 551):             `BUILTIN\Backup Operators`,
	NewSID(5, 32, 552):             `BUILTIN\Replicator`,
	NewSID(5, 32, 554):             `BUILTIN\Pre-Windows 2000 Compatible Access`,
	SIDRemoteDesktopUsers:          `BUILTIN\Remote Desktop Users`,
	NewSID(5, 32, 556):             `BUILTIN\Network Configuration Operators`,
	NewSID(5, 32, 558):             `BUILTIN\Performance Monitor Users`,
	NewSID(5, 32, 559):             `BUILTIN\Performance Log Users`,
	NewSID(5, 32, 562):             `BUILTIN\Distributed COM Users`,
	NewSID(5, 32, 568):             `BUILTIN\IIS_IUSRS`,
	NewSID(5, 32, 569):             `BUILTIN\Cryptographic Operators`,
	NewSID(5, 32, 573):             `BUILTIN\Event Log Readers`,
	NewSID(5, 32, 578):             `BUILTIN\Hyper-V Administrators`,
	NewSID(5, 32, 579):             `BUILTIN\Access Control Assistance Operators`,
	NewSID(5, 32, 580):             `BUILTIN\Remote Management Users`,
	SIDAllAppPackages:              `APPLICATION PACKAGE AUTHORITY\ALL APPLICATION PACKAGES`,
	SIDAllRestrictedAppPackages:    `APPLICATION PACKAGE AUTHORITY\ALL RESTRICTED APPLICATION PACKAGES`,
	SIDUntrustedMandatoryLevel:     `Mandatory Label\Untrusted Mandatory Level`,
	SIDLowMandatoryLevel:           `Mandatory Label\Low Mandatory Level`,
	SIDMediumMandatoryLevel:        `Mandatory Label\Medium Mandatory Level`,
	SIDMediumPlusMandatoryLevel:    `Mandatory Label\Medium Plus Mandatory Level`,
	SIDHighMandatoryLevel:          `Mandatory Label\High Mandatory Level`,
	SIDSystemMandatoryLevel:        `Mandatory Label\System Mandatory Level`,
	SIDProtectedProcessMandatoryLv: `Mandatory Label\Protected Process Mandatory Level`,
	NewSID(18, 1):                  `Authentication authority asserted identity`,
	NewSID(18, 2):                  `Service asserted identity`,
}

// capabilityNames names the capability SIDs of the documented, numbered
// app capabilities (S-1-15-3-N).
var capabilityNames = map[uint32]string{
	1: "internetClient", 2: "internetClientServer", 3: "privateNetworkClientServer",
	4: "picturesLibrary", 5: "videosLibrary", 6: "musicLibrary", 7: "documentsLibrary",
	8: "enterpriseAuthentication", 9: "sharedUserCertificates", 10: "removableStorage",
	11: "appointments", 12: "contacts",
}

// domainRIDNames names the well-known relative IDs of machine and domain
// accounts (S-1-5-21-X-Y-Z-RID). The domain's own name is not in the
// descriptor, so the names carry none.
var domainRIDNames = map[uint32]string{
	498: "Enterprise Read-only Domain Controllers",
	500: "Administrator", 501: "Guest", 502: "krbtgt", 503: "DefaultAccount", 504: "WDAGUtilityAccount",
	512: "Domain Admins", 513: "Domain Users", 514: "Domain Guests", 515: "Domain Computers",
	516: "Domain Controllers", 517: "Cert Publishers", 518: "Schema Admins", 519: "Enterprise Admins",
	520: "Group Policy Creator Owners", 521: "Read-only Domain Controllers", 522: "Cloneable Domain Controllers",
	525: "Protected Users", 526: "Key Admins", 527: "Enterprise Key Admins",
	553: "RAS and IAS Servers", 571: "Allowed RODC Password Replication Group",
	572: "Denied RODC Password Replication Group",
}

// WellKnownName returns the English account name Windows gives a
// well-known SID ("Everyone", `NT AUTHORITY\SYSTEM`, `BUILTIN\Users`, a
// named capability, a well-known domain RID such as "Domain Admins"), or ""
// when s is not well known.
func (s SID) WellKnownName() string {
	if n, ok := wellKnown[s]; ok {
		return n
	}
	switch {
	case s.IsCapability() && s.count == 2:
		if n, ok := capabilityNames[s.sub[1]]; ok {
			return `APPLICATION PACKAGE AUTHORITY\` + n
		}
	case s.IsDomainAccount():
		if n, ok := domainRIDNames[s.RID()]; ok {
			return n
		}
	case s.hasPrefix(5, 5) && s.count == 3:
		return `NT AUTHORITY\LogonSessionId_` + strconv.FormatUint(uint64(s.sub[1]), 10) + "_" + strconv.FormatUint(uint64(s.sub[2]), 10)
	}
	return ""
}

// Names resolves SIDs to account names: first the map (for example user
// names from ProfileList, keyed by SID string), then the well-known names.
// A nil Names resolves well-known SIDs only.
type Names map[string]string

// Name returns the name of s, or "" when neither the map nor the
// well-known table knows it.
func (n Names) Name(s SID) string {
	if n != nil {
		if v, ok := n[s.String()]; ok && v != "" {
			return v
		}
	}
	return s.WellKnownName()
}

// sddlAliases are the two-letter SID strings of sddl.h that Windows writes
// whatever machine it runs on. Aliases for accounts of the machine's or
// domain's own SID (LA, LG, DA, DU, ...) are written by Windows only for its
// own domain, which an offline reader cannot know: such SIDs are written in
// full.
var sddlAliases = map[SID]string{
	SIDEveryone:                  "WD",
	SIDCreatorOwner:              "CO",
	SIDCreatorGroup:              "CG",
	SIDOwnerRights:               "OW",
	SIDNetwork:                   "NU",
	SIDInteractive:               "IU",
	SIDService:                   "SU",
	SIDAnonymous:                 "AN",
	NewSID(5, 9):                 "ED",
	NewSID(5, 10):                "PS",
	SIDAuthenticatedUsers:        "AU",
	SIDRestricted:                "RC",
	SIDSystem:                    "SY",
	SIDLocalService:              "LS",
	SIDNetworkService:            "NS",
	NewSID(5, 33):                "WR",
	SIDAdministrators:            "BA",
	SIDUsers:                     "BU",
	SIDGuests:                    "BG",
	SIDPowerUsers:                "PU",
	NewSID(5, 32, 548):           "AO",
	NewSID(5, 32, 549):           "SO",
	NewSID(5, 32, 550):           "PO",
	NewSID(5, 32, 551):           "BO",
	NewSID(5, 32, 552):           "RE",
	NewSID(5, 32, 553):           "RS",
	NewSID(5, 32, 554):           "RU",
	SIDRemoteDesktopUsers:        "RD",
	NewSID(5, 32, 556):           "NO",
	NewSID(5, 32, 558):           "MU",
	NewSID(5, 32, 559):           "LU",
	NewSID(5, 32, 568):           "IS",
	NewSID(5, 32, 569):           "CY",
	NewSID(5, 32, 573):           "ER",
	NewSID(5, 32, 574):           "CD",
	NewSID(5, 32, 575):           "RA",
	NewSID(5, 32, 576):           "ES",
	NewSID(5, 32, 577):           "MS",
	NewSID(5, 32, 578):           "HA",
	NewSID(5, 32, 579):           "AA",
	NewSID(5, 32, 580):           "RM",
	NewSID(5, 84, 0, 0, 0, 0, 0): "UD",
	SIDAllAppPackages:            "AC",
	SIDLowMandatoryLevel:         "LW",
	SIDMediumMandatoryLevel:      "ME",
	SIDMediumPlusMandatoryLevel:  "MP",
	SIDHighMandatoryLevel:        "HI",
	SIDSystemMandatoryLevel:      "SI",
	NewSID(18, 1):                "AS",
	NewSID(18, 2):                "SS",
}

var aliasSIDs = func() map[string]SID {
	m := make(map[string]SID, len(sddlAliases))
	for s, a := range sddlAliases {
		m[a] = s
	}
	return m
}()

// SDDL returns the SID as SDDL writes it: the two-letter alias of a
// well-known SID ("BA", "SY", "WD", ...), else the "S-1-..." string.
func (s SID) SDDL() string {
	if a, ok := sddlAliases[s]; ok {
		return a
	}
	return s.String()
}
