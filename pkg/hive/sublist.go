package hive

// SubkeyList returns the hive-bins offset of the key's subkey list cell, or
// 0 when the key has no subkeys. Windows never lets two keys name the same
// list; a hive where they do is damaged or crafted, and a caller that reads
// subkeys key by key (rather than through Walk, which claims each list for
// one key) uses this to read each list once.
func (k *Key) SubkeyList() uint32 {
	if le32(k.nk[nkSubkeyCount:]) == 0 {
		return 0
	}
	return le32(k.nk[nkSubkeyList:])
}
