#!/usr/bin/env node
// portcullis launcher: checks the Node.js version before loading anything that needs Node 24, then runs the CLI.
// Plain CommonJS with no modern syntax, so that any Node.js can read it and print a clear message.
'use strict';
var MINIMUM_MAJOR = 24;
var major = Number(String(process.versions.node).split('.')[0]);
if (!(major >= MINIMUM_MAJOR)) {
  process.stderr.write(
    'portcullis: needs Node.js ' + MINIMUM_MAJOR + ' or newer, got Node.js ' + process.version + ' (' + process.execPath + ')\n' +
      '  install Node.js ' + MINIMUM_MAJOR + ' LTS and run portcullis with it, or use the single executable, which needs no Node.js\n',
  );
  process.exit(2);
}
var path = require('node:path');
var url = require('node:url');
import(url.pathToFileURL(path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js')).href).catch(function (err) {
  process.stderr.write('portcullis: cannot load the CLI: ' + (err && err.message ? err.message : String(err)) + '\n');
  process.exitCode = 2;
});
