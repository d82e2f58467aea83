package ociimage

import (
	"debug/elf"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill-dev/firedrill/internal/ociimage/elftest"
)

func fakeELF(t *testing.T, machine elf.Machine, dynamic bool) []byte {
	t.Helper()
	return elftest.ELF(machine, dynamic, "")
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
