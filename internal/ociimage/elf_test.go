package ociimage

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeELF is the smallest ELF file debug/elf reads: a header and one
// program header, PT_INTERP for a dynamically linked program.
func fakeELF(t *testing.T, machine elf.Machine, dynamic bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 1, Shentsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	prog := elf.Prog64{Type: uint32(elf.PT_LOAD)}
	if dynamic {
		prog.Type = uint32(elf.PT_INTERP)
	}
	require.NoError(t, binary.Write(&buf, binary.LittleEndian, h))
	require.NoError(t, binary.Write(&buf, binary.LittleEndian, prog))
	return buf.Bytes()
}

func TestCheckStatic(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		arch string
		want string // "" when it passes
	}{
		{"static amd64", fakeELF(t, elf.EM_X86_64, false), "amd64", ""},
		{"static arm64", fakeELF(t, elf.EM_AARCH64, false), "arm64", ""},
		{"dynamic", fakeELF(t, elf.EM_X86_64, true), "amd64", "dynamically linked"},
		{"other architecture", fakeELF(t, elf.EM_AARCH64, false), "amd64", "built for EM_AARCH64, not for amd64"},
		{"a script", []byte("#!/bin/sh\necho hi\n"), "amd64", "not a linux executable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckStatic(tt.data, tt.arch)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
