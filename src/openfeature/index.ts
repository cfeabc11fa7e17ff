/** `sluice/openfeature`: the in-process OpenFeature provider for Node (docs/flags.md). */
export { SluiceProvider, type SluiceProviderOptions } from './sluice-provider.ts';
