package oscal

// The part of the OSCAL 1.2.2 assessment-results model firedrill writes,
// with the JSON names of NIST's schema (oscal_complete_schema-1.2.2.json).

// Document is an OSCAL assessment-results document.
type Document struct {
	AssessmentResults *AssessmentResultsDoc `json:"assessment-results"`
}

// AssessmentResultsDoc is the document's root object.
type AssessmentResultsDoc struct {
	UUID       string      `json:"uuid"`
	Metadata   Metadata    `json:"metadata"`
	ImportAP   ImportAP    `json:"import-ap"`
	Results    []Result    `json:"results"`
	BackMatter *BackMatter `json:"back-matter,omitempty"`
}

// Metadata: LastModified is RFC 3339 with a time zone.
type Metadata struct {
	Title        string `json:"title"`
	LastModified string `json:"last-modified"`
	Version      string `json:"version"`
	OSCALVersion string `json:"oscal-version"`
}

// ImportAP points at the assessment plan: "#UUID" of a back-matter
// resource.
type ImportAP struct {
	Href string `json:"href"`
}

// Result is one drill.
type Result struct {
	UUID             string           `json:"uuid"`
	Title            string           `json:"title"`
	Description      string           `json:"description"`
	Props            []Prop           `json:"props,omitempty"`
	Start            string           `json:"start"`
	End              string           `json:"end,omitempty"`
	ReviewedControls ReviewedControls `json:"reviewed-controls"`
	Observations     []Observation    `json:"observations,omitempty"`
	Findings         []Finding        `json:"findings,omitempty"`
	Remarks          string           `json:"remarks,omitempty"`
}

// Prop is a name-value pair in a namespace.
type Prop struct {
	Name  string `json:"name"`
	NS    string `json:"ns,omitempty"`
	Value string `json:"value"`
}

// ReviewedControls are the controls a result assessed.
type ReviewedControls struct {
	ControlSelections []ControlSelection `json:"control-selections"`
}

// ControlSelection selects controls by id (OSCAL tokens).
type ControlSelection struct {
	Description     string          `json:"description,omitempty"`
	IncludeControls []SelectControl `json:"include-controls,omitempty"`
}

// SelectControl names one control.
type SelectControl struct {
	ControlID string `json:"control-id"`
}

// Observation is one check of a drill. Methods are OSCAL's (TEST);
// Collected is when it was made.
type Observation struct {
	UUID             string             `json:"uuid"`
	Title            string             `json:"title,omitempty"`
	Description      string             `json:"description"`
	Props            []Prop             `json:"props,omitempty"`
	Methods          []string           `json:"methods"`
	Types            []string           `json:"types,omitempty"`
	RelevantEvidence []RelevantEvidence `json:"relevant-evidence,omitempty"`
	Collected        string             `json:"collected"`
}

// RelevantEvidence points at evidence: "#UUID" of a back-matter resource.
type RelevantEvidence struct {
	Href        string `json:"href,omitempty"`
	Description string `json:"description"`
}

// Finding is one control's state after a drill.
type Finding struct {
	UUID                string               `json:"uuid"`
	Title               string               `json:"title"`
	Description         string               `json:"description"`
	Props               []Prop               `json:"props,omitempty"`
	Target              Target               `json:"target"`
	RelatedObservations []RelatedObservation `json:"related-observations,omitempty"`
}

// Target is what a finding is about: Type objective-id, TargetID the
// control's token.
type Target struct {
	Type     string `json:"type"`
	TargetID string `json:"target-id"`
	Status   Status `json:"status"`
}

// Status is satisfied or not-satisfied.
type Status struct {
	State string `json:"state"`
}

// RelatedObservation names an observation of the same result.
type RelatedObservation struct {
	ObservationUUID string `json:"observation-uuid"`
}

// BackMatter holds the resources the document points at.
type BackMatter struct {
	Resources []Resource `json:"resources,omitempty"`
}

// Resource is a document or file, here an evidence bundle with its hash.
type Resource struct {
	UUID        string  `json:"uuid"`
	Title       string  `json:"title,omitempty"`
	Description string  `json:"description,omitempty"`
	RLinks      []RLink `json:"rlinks,omitempty"`
}

// RLink locates a resource; Hashes let a reader check what it fetched.
type RLink struct {
	Href      string `json:"href"`
	MediaType string `json:"media-type,omitempty"`
	Hashes    []Hash `json:"hashes,omitempty"`
}

// Hash is a digest: Algorithm "SHA-256", Value hex.
type Hash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}
