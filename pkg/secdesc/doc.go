// Package secdesc decodes Windows self-relative security descriptors — the
// bytes a registry hive's sk cell holds for each key — and answers the
// questions an incident responder asks of them: who owns the key, which
// ACEs it carries (types, flags, trustees, access masks by name), what each
// principal can actually do to the key, whether a low-integrity process may
// write it, and whether the DACL is the one Windows itself writes.
//
// Parse decodes the bytes; SecurityDescriptor.SDDL renders them in
// Security Descriptor Definition Language exactly as Windows'
// ConvertSecurityDescriptorToStringSecurityDescriptor does (aliases such as
// BA, SY, WD, CO, RC, AC; rights such as KA, KR, GA, or hex where Windows
// writes hex). Effective, Principals, OwnerImplicit and LowIntegrityWrite
// hold the one effective-rights model the rest of envhunt uses; Baselines
// holds the DACLs Windows gives the two Environment keys, per era.
//
// The package depends on nothing but the standard library, so a pipeline
// can decode descriptors from any source (hives, NTFS $Secure, LDAP).
//
// # Security
//
// Descriptors come from evidence and may be hostile. Parse never panics and
// never reads outside the slice it is given:
//
//   - the input is at most MaxDescriptorSize (1 MiB) bytes;
//   - every offset (owner, group, SACL, DACL) must lie past the 20-byte
//     header and inside the input;
//   - an ACL's AclSize must hold its 8-byte header and end inside the
//     input; its AceCount may not exceed what AclSize can hold at 4 bytes
//     per ACE, so allocation is bounded by the input size;
//   - every AceSize must be at least 4 and end inside its ACL; the fields of
//     known ACE types (mask, object flags, GUIDs, SID) must end inside the
//     ACE;
//   - a SID has revision 1 and at most 15 sub-authorities and must end
//     inside its container.
//
// Violations give a *FormatError with the offset (from the start of the
// descriptor) and what was wrong. ACE types whose layout is unknown are
// kept as raw bytes, not rejected.
package secdesc
