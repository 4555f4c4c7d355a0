// Imported first by the CLI entry point: `portcullis serve` gets the image's node settings before anything loads.
import { ensureNodeSettings } from './node-settings.js';

if (process.argv[2] === 'serve' && !process.argv.includes('--help') && !process.argv.includes('-h')) ensureNodeSettings();
