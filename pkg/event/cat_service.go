package event

// WindowsService is one service or driver as the SYSTEM hive configures it.
// Values of a service key only make sense together (a kernel driver is a
// Type of 1 or 2 *and* an ImagePath), so the key becomes one event.
const WindowsService Category = "windows_service"

func init() {
	Declare(CategorySpec{
		Category: WindowsService,
		Doc:      "One service or driver key under HKLM\\SYSTEM\\CurrentControlSet\\Services, with the values that decide what runs.",
		Sources:  "SYSTEM hive",
		Fields: []Field{
			{"TargetObject", "string", "the service key, HKLM\\SYSTEM\\CurrentControlSet\\Services\\<name>"},
			{"ServiceName", "string", "the key's name"},
			{"ImagePath", "string", "ImagePath as stored (\\??\\ and \\SystemRoot\\ prefixes kept)"},
			{"ImagePathResolved", "string", "ImagePath as a Win32 path: \\??\\ removed, \\SystemRoot\\ and %SystemRoot% replaced by the system root, system32\\... made absolute"},
			{"ServiceType", "int", "Type: 1 kernel driver, 2 file-system driver, 16/32 own/shared process service, ..."},
			{"ServiceTypeName", "string", "kernel_driver, file_system_driver, own_process, share_process, ..."},
			{"IsDriver", "bool", "Type is 1 or 2"},
			{"Start", "int", "Start: 0 boot, 1 system, 2 automatic, 3 manual, 4 disabled"},
			{"StartName", "string", "boot, system, auto, demand, disabled"},
			{"ObjectName", "string", "account the service runs as"},
			{"ServiceDll", "string", "Parameters\\ServiceDll, for svchost services"},
			{"DisplayName", "string", "DisplayName as stored"},
			{"LastWrite", "time", "last-write time of the service key"},
			{"Hive", "string", "SYSTEM"},
		},
	})
}
