package runbooks

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse_RetroQuestions(t *testing.T) {
	doc := "# Restore the shop\n\nSome prose.\n\n- not a question: not under the heading\n\n" +
		"### Retrospective Questions ###\n\n- Did the DNS cut-over wait for the change approval?\n* Who had the registry credentials?\n" +
		"  continued line of the item above\n1. Was the on-call rota right?\n\n```sh\n- inside a code block\n```\n\n" +
		"<!--\n- inside an HTML comment\n-->\n\n## Afterwards\n\n- not a question either\n"
	rb, err := Parse("rb.md", []byte(doc))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"Did the DNS cut-over wait for the change approval?",
		"Who had the registry credentials?",
		"Was the on-call rota right?",
	}, rb.RetroQuestions)
}

func TestParse_NoRetroQuestions(t *testing.T) {
	rb, err := Parse("rb.md", []byte("# Title\n\n## Retrospective\n\n- a list under another heading\n"))
	require.NoError(t, err)
	assert.Empty(t, rb.RetroQuestions)
}
