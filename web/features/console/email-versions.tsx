import { Tabs, TabsContent, TabsList, TabsTrigger } from '../../components/ui/tabs'

/**
 * An email as its recipient would see it, in tabs: the HTML in a frame with no permissions
 * at all (no scripts, no same origin, no forms), never in this page, and the plain text.
 * `name` says which email, for the tabs' and the frame's labels.
 */
export function EmailVersions({ html, text, name, className }: { html: string | null | undefined; text: string; name: string; className?: string }) {
  return (
    <Tabs defaultValue={html ? 'html' : 'text'} className={className}>
      <TabsList aria-label={`Versions of ${name}`}>
        {html && <TabsTrigger value="html">Rendered</TabsTrigger>}
        <TabsTrigger value="text">Text</TabsTrigger>
      </TabsList>
      {html && (
        <TabsContent value="html">
          <iframe sandbox="" srcDoc={html} title={`Rendered: ${name}`} className="h-80 w-full rounded-md border border-border bg-white" />
        </TabsContent>
      )}
      <TabsContent value="text">
        <pre className="max-h-80 overflow-auto rounded-md bg-background p-3 text-sm break-words whitespace-pre-wrap">{text}</pre>
      </TabsContent>
    </Tabs>
  )
}
