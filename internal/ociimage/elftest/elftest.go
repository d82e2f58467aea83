// Package elftest makes the smallest ELF files debug/elf reads, for tests
// of code that must tell static programs from dynamically linked ones
// (ociimage.CheckStatic) without building real binaries.
package elftest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// ELF is an ELF file of machine: a header and one program header,
// PT_INTERP when dynamic (a dynamically linked program), else PT_LOAD.
// tail is appended, so that files of different programs differ.
func ELF(machine elf.Machine, dynamic bool, tail string) []byte {
	var buf bytes.Buffer
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 1, Shentsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	prog := elf.Prog64{Type: uint32(elf.PT_LOAD)}
	if dynamic {
		prog.Type = uint32(elf.PT_INTERP)
	}
	// Writes to a bytes.Buffer of fixed-size values cannot fail.
	_ = binary.Write(&buf, binary.LittleEndian, h)
	_ = binary.Write(&buf, binary.LittleEndian, prog)
	buf.WriteString(tail)
	return buf.Bytes()
}
