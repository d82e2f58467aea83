package ociimage

import (
	"bytes"
	"debug/elf"
	"fmt"
)

// machines are the ELF machines of the architectures images are built for.
var machines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM,
	"386": elf.EM_386, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "riscv64": elf.EM_RISCV,
}

// CheckStatic reports an error unless data is a statically linked linux
// executable for the architecture arch (a GOARCH). The images have no C
// library and no dynamic loader: a dynamically linked program there fails
// with "no such file or directory", which names neither the program nor
// the reason, so the builder refuses it instead. Debian's busybox package
// is dynamically linked; busybox-static is not.
func CheckStatic(data []byte, arch string) error {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not a linux executable: %w", err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("not an executable but %s", f.Type)
	}
	if want, ok := machines[arch]; ok && f.Machine != want {
		return fmt.Errorf("built for %s, not for %s", f.Machine, arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("dynamically linked: it needs a dynamic loader and a C library the image does not have; use a static build")
		}
	}
	return nil
}
