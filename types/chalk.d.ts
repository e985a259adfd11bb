// chalk ships ESM-only type definitions that the CommonJS module resolution does not find; this
// is the part of its API tspod uses.
declare module 'chalk' {
  type Paint = (text: string) => string;
  export class Chalk {
    constructor(options?: { level?: 0 | 1 | 2 | 3 });
    dim: Paint;
    green: Paint;
    cyan: Paint;
    bold: Paint;
    red: Paint;
    yellow: Paint;
  }
}
