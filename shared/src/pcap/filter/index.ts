/**
 * The filter language: tcpdump text or the structured job form → AST → a compiled predicate,
 * a canonical string, and an index summary.
 *
 * @example
 * const ast = parseFilter('host 10.0.0.1 and tcp port 443');
 * const filter = compileFilter(throughVlanTags(ast));
 * filter.matches(view);
 */
export * from './ast.js';
export { FilterSyntaxError, FilterUnsupportedError } from './errors.js';
export { parseFilter } from './parser.js';
export { compileFilter, type CompiledFilter, type PacketPredicate } from './compile.js';
export { formatFilter } from './format.js';
export { structuredToFilter, FilterFieldError, type StructuredFilter } from './structured.js';
export { filterSummary, type BlockContents, type BlockPredicate } from './summary.js';
export { PORT_NAMES } from './ports.js';
