// Tailwind 4 through PostCSS, as Next builds CSS.
export default { plugins: { '@tailwindcss/postcss': {} } }
