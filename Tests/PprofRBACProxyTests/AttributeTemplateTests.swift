import Testing

@testable import PprofRBACProxy
@testable import RequestPolicy

@Suite("AttributeTemplate: {{ .Value }} substitution")
struct AttributeTemplateTests {
    @Test("renders every {{ .Value }}, whatever the spacing inside the braces", arguments: [
        ("{{ .Value }}", "v"), ("{{.Value}}", "v"), ("{{   .Value\t}}", "v"), ("{{\n.Value\n}}", "v"),
        ("pre-{{ .Value }}-post", "pre-v-post"), ("{{.Value}}{{.Value}}", "vv"), ("plain", "plain"), ("", ""),
        ("a }} b", "a }} b"),
    ])
    func renders(text: String, expected: String) throws {
        #expect(try AttributeTemplate(parsing: text).rendered(value: "v") == expected)
    }

    @Test("knows whether it uses the value")
    func usesValue() throws {
        #expect(try AttributeTemplate(parsing: "x-{{ .Value }}").usesValue)
        #expect(try !AttributeTemplate(parsing: "x").usesValue)
        #expect(!AttributeTemplate.empty.usesValue)
    }

    @Test("refuses any other template", arguments: [
        "{{ .Values }}", "{{ . }}", "{{- .Value }}", "{{ .Value -}}", "{{ .Value | printf \"%s\" }}", "{{ .Value",
        "{{}}", "{{ .value }}", "ok {{ if .Value }}x{{ end }}",
    ])
    func refuses(text: String) {
        #expect(throws: AttributeTemplateError(text: text)) { try AttributeTemplate(parsing: text) }
    }
}
