// Package gpo reads the Group Policy files a collection holds, offline:
//
//   - Registry.pol (the PReg format of Windows\System32\GroupPolicy\{Machine,User},
//     SYSVOL Policies\{GUID}\{Machine,User} and the Group Policy history
//     caches): the registry values and deletions a policy applies;
//   - scripts.ini and psscripts.ini (the Scripts folder of a GPO): the logon,
//     logoff, startup and shutdown scripts a policy runs, with their
//     parameters;
//   - Group Policy Preferences EnvironmentVariables.xml and Registry.xml:
//     environment variables and registry values a preference item creates,
//     replaces, updates or deletes.
//
// Each reader takes the file's bytes (LoadPol, LoadScripts, LoadEnvironment,
// LoadRegistryXML) or a path (OpenPol, ...) and returns typed records named as
// the published formats name them ([MS-GPREG] for Registry.pol, [MS-GPSCR]
// for the script files, [MS-GPPREF] for the preference items). Parsing is
// strict: anything the format does not allow is a *FormatError naming the
// file, the byte offset (or line) and what was wrong; nothing is guessed.
// The package knows nothing of envhunt's event model, so pipelines can use it
// alone; pkg/analyze turns its records into events.
//
// # Security
//
// Group Policy files in a collection are attacker-controlled input (anyone
// who can write a GPO on SYSVOL writes them). The readers enforce:
//
//   - file size: MaxFileSize (16 MiB) for every file, checked before reading;
//   - Registry.pol: at most MaxPolRecords records; key names at most
//     MaxKeyLength UTF-16 units, value names at most MaxValueNameLength; a
//     record's declared data size must fit in the bytes that remain, so no
//     allocation exceeds the file;
//   - scripts.ini: at most MaxScripts entries, script indexes below
//     MaxScripts, lines at most MaxLineLength bytes;
//   - preference XML: at most MaxItems items and MaxXMLDepth nested
//     elements (collections inside collections), entities are not expanded
//     (encoding/xml does not fetch or define any), attribute values at most
//     MaxLineLength bytes;
//   - script bodies are read by the caller; ReadBody bounds them to
//     MaxScriptBody bytes.
//
// Every reader is fuzzed (FuzzLoadPol, FuzzLoadScripts, FuzzLoadEnvironment,
// FuzzLoadRegistryXML): no input makes them panic, loop or allocate more
// than a small multiple of the input.
package gpo
