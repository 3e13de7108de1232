// Types of template.js: the key and tag templates of `cache.wrap` (internal).

/** A parsed template: literal strings and fields. */
export type TemplatePart = string | { root: string; path: string[] }

/** @internal the parts of `text`, or null when it has no field; InvalidArgument when malformed. */
export declare function parseTemplate(text: string, what: string): TemplatePart[] | null
/** @internal the text of `parts` for one call; InvalidArgument for a field undefined in it. */
export declare function fillTemplate(parts: TemplatePart[], self: unknown, args: unknown[], what: string): string
