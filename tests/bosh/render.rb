# Renders a BOSH job's templates the way the director does, for the tests of bosh-jobs/.
#
# The template context mimics BOSH's: p("a.b") with the spec's defaults (raising on a
# property that has neither a value nor a default), p("x", default), p([names], default),
# if_p("a", "b") { |a, b| } with .else / .else_if_p, spec.address/name/index/id/deployment,
# link("name").p(...) / .instances[i].address / .if_p, if_link("name") { |l| }.else { }.
# Stricter than BOSH on purpose: a template that reads a property the spec does not
# declare fails, and so do manifest properties the spec does not declare.
#
# As a library: BoshRender::Job.new(dir).render(properties, links:, out:) -> used names.
# As a command (cases from tests/bosh/cases/ unless --cases says otherwise; see cases_for):
#   ruby render.rb --job DIR --out DIR [--case NAME] [--cases DIR] [--set NAME=JSON]
#                  [--set-file NAME=PATH] [--link NAME=JSON] [--vcap-root DIR] [--address ADDR]
#   ruby render.rb --job DIR --list-cases       (the job's case names, errors left out)
require 'erb'
require 'fileutils'
require 'json'
require 'optparse'
require 'ostruct'
require 'set'
require 'yaml'

module BoshRender
  class Error < StandardError; end

  # Dotted lookup in nested hashes: "a.b.c" -> h["a"]["b"]["c"] (nil when absent).
  def self.lookup(hash, name)
    name.split('.').reduce(hash) do |node, key|
      return nil unless node.is_a?(Hash) && node.key?(key)
      node[key]
    end
  end

  def self.store(hash, name, value)
    keys = name.split('.')
    last = keys.pop
    node = keys.reduce(hash) { |h, key| h[key] = {} unless h[key].is_a?(Hash); h[key] }
    node[last] = value
    hash
  end

  def self.deep_copy(value)
    Marshal.load(Marshal.dump(value))
  end

  # What if_p / if_link return: BOSH's ActiveElseBlock and InactiveElseBlock.
  class ActiveElseBlock
    def else
      self
    end

    def else_if_p(*_names)
      self
    end
  end

  class InactiveElseBlock
    def initialize(context)
      @context = context
    end

    def else
      yield
      ActiveElseBlock.new
    end

    def else_if_p(*names, &block)
      @context.if_p(*names, &block)
    end
  end

  # A consumed link: the provider's exposed properties and its instances.
  class Link
    attr_reader :instances, :name

    def initialize(name, properties, instances)
      @name = name
      @properties = properties || {}
      @instances = (instances || []).each_with_index.map do |inst, i|
        OpenStruct.new({ 'name' => name, 'index' => i, 'id' => "#{name}-#{i}", 'az' => 'z1',
                         'bootstrap' => i.zero? }.merge(inst))
      end
    end

    def address
      @instances.empty? ? nil : @instances[0].address
    end

    def p(*args)
      names = Array(args[0])
      names.each do |n|
        value = BoshRender.lookup(@properties, n)
        return value unless value.nil?
      end
      return args[1] if args.length == 2
      raise Error, "link #{@name}: can't find property #{names.inspect}"
    end

    def if_p(*names)
      values = names.map { |n| BoshRender.lookup(@properties, n) }
      return InactiveElseBlock.new(self) if values.any?(&:nil?)
      yield(*values)
      ActiveElseBlock.new
    end
  end

  # The object templates are evaluated against.
  class Context
    attr_reader :used

    def initialize(job, properties, links, instance)
      @job = job
      @properties = properties
      @links = links
      @used = Set.new
      @spec = OpenStruct.new(instance)
    end

    def spec
      @spec
    end

    def p(*args)
      names = Array(args[0])
      names.each do |n|
        declare_check(n)
        value = BoshRender.lookup(@properties, n)
        return value unless value.nil?
      end
      return args[1] if args.length == 2
      raise Error, "#{@job.name}: can't find property #{names.inspect} (no value and no default)"
    end

    def if_p(*names)
      values = names.map do |n|
        declare_check(n)
        BoshRender.lookup(@properties, n)
      end
      return InactiveElseBlock.new(self) if values.any?(&:nil?)
      yield(*values)
      ActiveElseBlock.new
    end

    def link(name)
      consumed_check(name)
      @links.fetch(name) { raise Error, "#{@job.name}: link #{name} is not provided" }
    end

    def if_link(name)
      consumed_check(name)
      return InactiveElseBlock.new(self) unless @links.key?(name)
      yield @links[name]
      ActiveElseBlock.new
    end

    def get_binding
      binding
    end

    private

    def declare_check(name)
      raise Error, "#{@job.name}: a template uses property #{name}, which the spec does not declare" unless
        @job.properties.key?(name)
      @used << name
    end

    def consumed_check(name)
      raise Error, "#{@job.name}: a template uses link #{name}, which the spec does not consume" unless
        @job.consumes.any? { |c| c['name'] == name }
    end
  end

  class Job
    attr_reader :dir, :name, :spec

    def initialize(dir)
      @dir = dir
      @spec = YAML.safe_load(File.read(File.join(dir, 'spec')))
      @name = @spec['name']
      raise Error, "#{dir}/spec: name #{@name.inspect} differs from the directory" unless File.basename(dir) == @name
    end

    def properties
      @spec['properties'] || {}
    end

    def consumes
      @spec['consumes'] || []
    end

    def provides
      @spec['provides'] || []
    end

    # template source -> destination, monit included (BOSH renders it too).
    def templates
      t = (@spec['templates'] || {}).map { |src, dest| [File.join(@dir, 'templates', src), dest] }
      t << [File.join(@dir, 'monit'), 'monit']
      t
    end

    # Manifest properties merged over the spec's defaults; undeclared manifest keys fail.
    def effective_properties(manifest)
      check_declared(manifest || {}, '')
      merged = BoshRender.deep_copy(manifest || {})
      properties.each do |name, decl|
        next unless decl.is_a?(Hash) && decl.key?('default')
        next unless BoshRender.lookup(merged, name).nil?
        BoshRender.store(merged, name, BoshRender.deep_copy(decl['default']))
      end
      merged
    end

    # What a `provides` link hands to its consumers: the listed properties' values.
    def link_for(provided, manifest, instances)
      decl = provides.find { |l| l['name'] == provided } or
        raise Error, "#{@name}: provides no link #{provided}"
      merged = effective_properties(manifest)
      exposed = {}
      (decl['properties'] || []).each do |n|
        raise Error, "#{@name}: link #{provided} exposes #{n}, which the spec does not declare" unless properties.key?(n)
        value = BoshRender.lookup(merged, n)
        BoshRender.store(exposed, n, value) unless value.nil?
      end
      Link.new(provided, exposed, instances)
    end

    # Render every template into out_dir (when given); returns {dest => text, used: Set}.
    def render(manifest, links: {}, out: nil, instance: {}, vcap_root: nil)
      props = effective_properties(manifest)
      link_objects = links.transform_values do |l|
        l.is_a?(Link) ? l : Link.new('link', l['properties'], l['instances'])
      end
      inst = { 'name' => @name, 'index' => 0, 'id' => '6c1b5f2e-0d7a-4a8e-9a55-3f2f0a9d8b11',
               'deployment' => 'osb', 'az' => 'z1', 'address' => '10.0.16.5', 'ip' => '10.0.16.5',
               'bootstrap' => true }.merge(instance)
      context = Context.new(self, props, link_objects, inst)
      result = {}
      templates.each do |src, dest|
        raise Error, "#{@name}: template #{src} is missing" unless File.file?(src)
        erb = ERB.new(File.read(src), trim_mode: '-')
        erb.filename = src
        begin
          text = erb.result(context.get_binding)
        rescue Error
          raise
        rescue StandardError => e
          raise Error, "#{@name}: #{File.basename(src)}: #{e.message}"
        end
        text = text.gsub('/var/vcap/', "#{vcap_root.chomp('/')}/") if vcap_root
        result[dest] = text
        next unless out
        path = File.join(out, dest)
        FileUtils.mkdir_p(File.dirname(path))
        File.write(path, text)
        File.chmod(0o755, path) if dest.start_with?('bin/')
      end
      [result, context.used]
    end

    private

    # Every manifest key must be a declared property or lead to one.
    def check_declared(node, prefix)
      node.each do |key, value|
        name = prefix.empty? ? key.to_s : "#{prefix}.#{key}"
        next if properties.key?(name)
        if value.is_a?(Hash) && properties.keys.any? { |p| p.start_with?("#{name}.") }
          check_declared(value, name)
        else
          raise Error, "#{@name}: manifest property #{name} is not declared in the spec"
        end
      end
    end
  end

  # Cases: tests/bosh/cases/<job>.yml is {case_name => {"properties" => ..., "links" => {name =>
  # link}, "expect" => ...}, "errors" => {name => {"properties", "links", "message"}}}, where a
  # link is {"instances": [...], "properties": {...}} or {"from": {"job", "case", "provides",
  # "instances"}}: what that job provides when rendered with that case.
  #
  # A broker job (<name>-broker, generated from brokers/list) has every case of
  # cases/generic-broker.yml, with <name> and <job> in its text replaced, plus those of its own
  # file, which win by name; an own case with `extends: CASE` takes that generic case's
  # properties deep-merged with its own (a null removes a key), and its expect unless it has one.
  # A {"catalog_of": NAME} value is catalog/NAME.json with "-custom" added to service names.
  GENERIC = 'generic-broker.yml'

  def self.cases_for(cases_dir, job_name)
    own_file = File.join(cases_dir, "#{job_name}.yml")
    own = File.file?(own_file) ? YAML.safe_load(File.read(own_file)) || {} : {}
    return own unless job_name.end_with?('-broker')

    name = job_name.delete_suffix('-broker')
    text = File.read(File.join(cases_dir, GENERIC)).gsub('<name>', name).gsub('<job>', job_name)
    generic = YAML.safe_load(text)
    cases = generic.reject { |k, _| k == 'errors' }
    own.each do |case_name, c|
      next if case_name == 'errors'

      if c['extends']
        base = generic[c['extends']] or raise Error, "#{own_file}: #{case_name} extends no case #{c['extends']}"
        c = extend_case(base, c)
      end
      cases[case_name] = c
    end
    cases['errors'] = (generic['errors'] || {}).merge(own['errors'] || {})
    resolve_catalogs(cases, File.expand_path('../..', __dir__))
  end

  def self.extend_case(base, own)
    merged = deep_copy(base)
    merged['properties'] = deep_merge(merged['properties'] || {}, own['properties'] || {})
    merged['links'] = own['links'] if own.key?('links')
    merged['expect'] = own['expect'] if own.key?('expect')
    merged
  end

  def self.deep_merge(base, over)
    over.each do |key, value|
      if value.nil?
        base.delete(key)
      elsif value.is_a?(Hash) && base[key].is_a?(Hash)
        base[key] = deep_merge(base[key], value)
      else
        base[key] = deep_copy(value)
      end
    end
    base
  end

  def self.resolve_catalogs(node, root)
    case node
    when Hash
      if node.keys == ['catalog_of']
        catalog = JSON.parse(File.read(File.join(root, 'catalog', "#{node['catalog_of']}.json")))
        catalog['services'].each { |svc| svc['name'] = "#{svc['name']}-custom" }
        return catalog
      end
      node.transform_values { |v| resolve_catalogs(v, root) }
    when Array
      node.map { |v| resolve_catalogs(v, root) }
    else
      node
    end
  end

  def self.resolve_links(jobs_dir, cases_dir, links)
    (links || {}).to_h do |link_name, l|
      next [link_name, l] unless l['from']

      from = l['from']
      provider = Job.new(File.join(jobs_dir, from['job']))
      pc = cases_for(cases_dir, from['job'])[from['case']] or
        raise Error, "link #{link_name}: #{from['job']} has no case #{from['case']}"
      [link_name, provider.link_for(from['provides'], pc['properties'], from['instances'])]
    end
  end

  # [properties, links] of a case of a job.
  def self.load_case(jobs_dir, cases_dir, job_name, case_name)
    c = cases_for(cases_dir, job_name)[case_name]
    raise Error, "#{job_name}: no case #{case_name}" if c.nil? || case_name == 'errors'

    [BoshRender.deep_copy(c['properties'] || {}), resolve_links(jobs_dir, cases_dir, c['links'])]
  end
end

if $PROGRAM_NAME == __FILE__
  opts = { sets: [], links: {}, cases: File.join(__dir__, 'cases') }
  OptionParser.new do |o|
    o.on('--job DIR') { |v| opts[:job] = v }
    o.on('--out DIR') { |v| opts[:out] = v }
    o.on('--case NAME') { |v| opts[:case] = v }
    o.on('--cases DIR') { |v| opts[:cases] = v }
    o.on('--list-cases') { opts[:list] = true }
    o.on('--set NAME=JSON') { |v| opts[:sets] << [v.split('=', 2), :json] }
    o.on('--set-file NAME=PATH') { |v| opts[:sets] << [v.split('=', 2), :file] }
    o.on('--link NAME=JSON') { |v| n, j = v.split('=', 2); opts[:links][n] = JSON.parse(j) }
    o.on('--vcap-root DIR') { |v| opts[:vcap_root] = v }
    o.on('--address ADDR') { |v| opts[:address] = v }
  end.parse!
  begin
    job = BoshRender::Job.new(opts.fetch(:job))
    if opts[:list]
      puts BoshRender.cases_for(opts[:cases], job.name).keys.reject { |k| k == 'errors' }
      exit 0
    end
    props = {}
    links = {}
    props, links = BoshRender.load_case(File.dirname(job.dir), opts[:cases], job.name, opts[:case]) if opts[:case]
    opts[:sets].each do |(n, v), kind|
      BoshRender.store(props, n, kind == :file ? File.read(v) : JSON.parse(v))
    end
    links.merge!(opts[:links])
    instance = opts[:address] ? { 'address' => opts[:address], 'ip' => opts[:address] } : {}
    job.render(props, links: links, out: opts.fetch(:out), instance: instance, vcap_root: opts[:vcap_root])
  rescue BoshRender::Error, KeyError, JSON::ParserError, Errno::ENOENT => e
    warn "render: #{e.message}"
    exit 1
  end
end
