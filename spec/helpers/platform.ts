// Specs import library modules directly, not through an entry point: install the Node backend first.
import '../../lib/platform/node.js';
