/// `authorization.resourceAttributes` of the config file: the resource every request is
/// authorized as, each field possibly templated with `{{ .Value }}`.
package struct ResourceAttributesTemplate: Sendable, Hashable {
    package var namespace: AttributeTemplate
    /// `apiGroup` in the config file; `group` in the SubjectAccessReview.
    package var group: AttributeTemplate
    /// `apiVersion` in the config file; `version` in the SubjectAccessReview.
    package var version: AttributeTemplate
    package var resource: AttributeTemplate
    package var subresource: AttributeTemplate
    package var name: AttributeTemplate

    package init(
        namespace: AttributeTemplate, group: AttributeTemplate, version: AttributeTemplate,
        resource: AttributeTemplate, subresource: AttributeTemplate, name: AttributeTemplate
    ) {
        self.namespace = namespace
        self.group = group
        self.version = version
        self.resource = resource
        self.subresource = subresource
        self.name = name
    }

    /// Parses the six fields as written (empty strings for absent ones).
    package init(
        namespace: String = "", apiGroup: String = "", apiVersion: String = "",
        resource: String = "", subresource: String = "", name: String = ""
    ) throws(AttributeTemplateError) {
        self.init(
            namespace: try AttributeTemplate(parsing: namespace), group: try AttributeTemplate(parsing: apiGroup),
            version: try AttributeTemplate(parsing: apiVersion), resource: try AttributeTemplate(parsing: resource),
            subresource: try AttributeTemplate(parsing: subresource), name: try AttributeTemplate(parsing: name)
        )
    }

    private var fields: [AttributeTemplate] {
        [namespace, group, version, resource, subresource, name]
    }

    /// Whether any field mentions `{{ .Value }}`.
    package var usesValue: Bool {
        fields.contains(where: \.usesValue)
    }

    /// The resource with `value` substituted for `{{ .Value }}` in every field.
    package func rendered(value: String) -> ResourceAttributes {
        ResourceAttributes(
            namespace: namespace.rendered(value: value), group: group.rendered(value: value),
            version: version.rendered(value: value), resource: resource.rendered(value: value),
            subresource: subresource.rendered(value: value), name: name.rendered(value: value)
        )
    }
}
