// Types of args.js: the argument checks both JS packages share (internal).

/** @internal `v` when it is a string; an InvalidArgument naming `what` otherwise. */
export declare function stringArg(v: unknown, what: string): string
/** @internal a plain options object, or undefined; anything else is an InvalidArgument,
 *  and so is a name beyond `names` when they are given. */
export declare function optionsObject(opts: unknown, what: string, names?: string[]): object | undefined
